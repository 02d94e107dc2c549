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
    """At most ``rate`` events per second per session; the rest are dropped."""

    def __init__(self, rate: int = limits.VIEW_EVENTS_PER_SECOND):
        self.rate = rate
        self.times: collections.deque[float] = collections.deque()

    def allow(self) -> bool:
        now = time.monotonic()
        while self.times and now - self.times[0] > 1.0:
            self.times.popleft()
        if len(self.times) >= self.rate:
            return False
        self.times.append(now)
        return True

    def __deepcopy__(self, memo):  # gr.State copies its initial value per session
        return Throttle(self.rate)


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
    throttle: Throttle = dataclasses.field(default_factory=Throttle)
