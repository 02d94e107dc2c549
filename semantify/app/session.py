"""Per-visitor state, kept server-side in a ``gr.State``: nothing here is shared.

``token`` is made by the server when the page opens (it names the session's scratch folder);
``view`` names the page's viewer in the app's frame service (which keeps its camera), and
``announced`` is the view id the page was last told;
``entry`` is the catalog id on show; ``values`` (K,) every slider's value, including those the
page has no slot for; ``set_names`` the sliders the visitor set (None: all), on a set with a
body model the others are free and show the body's own values; ``vertices`` (V, 3) the
rest-pose mesh (measured, exported) and ``displacement`` (V,) how far each vertex moved in
the last change; ``pose`` and ``appearance`` how the mesh is shown.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading

import numpy as np

from semantify.app.admission import Throttle


class Newest:
    """One visitor's newest state, shared by every version of it (as :class:`Throttle` is),
    and a lock that runs its short events one at a time. Gradio hands an event the state as it
    was when the event started and keeps whichever answer finishes last, so two events of one
    visitor at once lose one's change (a heatmap ticked while a drag settles was undone when
    the settle finished); an event run in turn starts from the newest state instead."""

    def __init__(self):
        self.lock = threading.RLock()
        self.session: Session | None = None

    def run(self, session: Session, step, state_of, hold: bool = True):
        """``step`` (an event's work) from the newest state, or ``session`` if there is none
        yet; ``state_of`` finds the state in its answer, which becomes the newest. With
        ``hold``, one step of the visitor at a time (heavy jobs run without holding the
        visitor's other events back)."""
        with self.lock if hold else contextlib.nullcontext():
            answer = step(self.session if self.session is not None else session)
            state = state_of(answer)
            if isinstance(state, Session):
                self.session = state
            return answer

    def __deepcopy__(self, memo):  # gr.State copies its initial value per session
        return Newest()


@dataclasses.dataclass(frozen=True)
class PhotoRef:
    """An uploaded photo that passed the checks: where Gradio stored it and its name."""

    path: str
    name: str
    size: tuple[int, int]


@dataclasses.dataclass(frozen=True)
class Session:
    """One visitor's state (the fields are described above), frozen: an event returns a
    changed copy (``dataclasses.replace``)."""

    token: str = ""
    address: str = ""  # the visitor's network address (admission.address_of), set on page load
    view: str = ""
    announced: str = ""  # the view id the page was last sent
    entry: str = ""
    values: tuple[float, ...] = ()
    set_names: tuple[str, ...] | None = None  # the sliders set; the others follow the body
    pose: str = "rest"
    appearance: str = "skin"
    heatmap: bool = False
    coefficients: tuple[float, ...] = ()
    vertices: np.ndarray | None = None
    displacement: np.ndarray | None = None
    photos: tuple[PhotoRef, ...] = ()
    crop: tuple[float, float, float, float] | None = None  # fractions of the first photo
    everyone: bool = False  # also list sets other visitors built
    custom_build: str | None = None  # the folder of a build this session queued (server side)
    builds_seen: int = 0  # first builds finished when this page's picker was last refreshed
    build_watched: str = ""  # the model whose first build this page saw under way
    slots: tuple[int, ...] = ()  # the slider slots the page was last laid out with
    throttle: Throttle = dataclasses.field(default_factory=Throttle)  # places in the queue
    newest: Newest = dataclasses.field(default_factory=Newest, repr=False, compare=False)
