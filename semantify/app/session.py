"""Per-visitor state, kept server-side in a ``gr.State``: nothing here is shared.

``token`` is made by the server when the page opens (it names the session's scratch folder);
``view`` names the page's viewer in the app's frame service (which keeps its camera), and
``announced`` is the view id the page was last told;
``entry`` is the catalog id on show; ``values`` (K,) every slider's value, including those the
page has no slot for; ``vertices`` (V, 3) the rest-pose mesh (measured, exported) and
``displacement`` (V,) how far each vertex moved in the last change; ``pose`` and
``appearance`` how the mesh is shown.
"""

from __future__ import annotations

import collections
import dataclasses
import threading
import time

import numpy as np

from semantify import limits


@dataclasses.dataclass(frozen=True)
class PhotoRef:
    """An uploaded photo that passed the checks: where Gradio stored it and its name."""

    path: str
    name: str
    size: tuple[int, int]


class Throttle:
    """A session's view events: at most ``rate`` a second and ``pending`` waiting or running at
    once. It is asked before an event enters the server's queue, so a flooding session holds
    at most ``pending`` places in it and cannot starve the others. A place not released (the
    visitor left mid-event) is freed after ``expiry`` seconds."""

    def __init__(self, rate: int = limits.VIEW_EVENTS_PER_SECOND,
                 pending: int = limits.VIEW_EVENTS_PENDING, expiry: float = 10.0):
        self.rate, self.limit, self.expiry = rate, pending, expiry
        self.times: collections.deque[float] = collections.deque()
        self.pending: collections.deque[float] = collections.deque()
        self._lock = threading.Lock()

    def admit(self) -> bool:
        """Take a place for one event, or False when the session is over its limits."""
        now = time.monotonic()
        with self._lock:
            while self.times and now - self.times[0] > 1.0:
                self.times.popleft()
            while self.pending and now - self.pending[0] > self.expiry:
                self.pending.popleft()
            if len(self.times) >= self.rate or len(self.pending) >= self.limit:
                return False
            self.times.append(now)
            self.pending.append(now)
            return True

    def release(self) -> None:
        """Give back the place of an event that has finished."""
        with self._lock:
            if self.pending:
                self.pending.popleft()

    def __deepcopy__(self, memo):  # gr.State copies its initial value per session
        return Throttle(self.rate, self.limit, self.expiry)


@dataclasses.dataclass
class Session:
    token: str = ""
    view: str = ""
    announced: str = ""  # the view id the page was last sent
    entry: str = ""
    values: tuple[float, ...] = ()
    pose: str = "rest"
    appearance: str = "skin"
    heatmap: bool = False
    coefficients: tuple[float, ...] = ()
    vertices: np.ndarray | None = None
    displacement: np.ndarray | None = None
    photos: tuple[PhotoRef, ...] = ()
    crop: tuple[float, float, float, float] | None = None  # fractions of the first photo
    everyone: bool = False  # also list sets built in other sessions
    jobs: tuple[float, ...] = ()  # when this session started training jobs (public limit)
    custom_build: str | None = None  # the folder of a build this session queued (server side)
    builds_seen: int = 0  # first builds finished when this page's picker was last refreshed
    build_watched: str = ""  # the model whose first build this page saw under way
    throttle: Throttle = dataclasses.field(default_factory=Throttle)
