"""A test page for the orbit viewer: one model entry (raw ``anny-body`` phenotypes, the shipped
metric slider set, or the Anny face), its sliders, a pose picker, skin or clay, a heatmap with
its colour key, the rest-pose measurements and a turntable button.

``python -m semantify.app.viewport [--entry anny-body|metric|face] [--port P]`` serves it;
``bench/viewport.py`` and ``tests/test_viewport.py`` drive it in Chromium.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import functools
import tempfile
import threading
from pathlib import Path

import gradio as gr
import numpy as np
import torch

from semantify.app import heatmap
from semantify.app.frames import jpeg_data_url
from semantify.app.viewport.component import orbit_view
from semantify.app.viewport.service import FrameService, Scene, slider_pairs
from semantify.sliders import Slider

ENTRIES = {"anny-body": ("anny-body", None), "metric": ("anny-body", "sliders/anny-body-metric"),
           "face": ("anny-face-shape", None)}
RENDER_SIZE = 512
RECENT = 16  # slider positions whose coefficients are kept
ROOT = Path(__file__).resolve().parents[3]


@dataclasses.dataclass(frozen=True)
class Entry:
    """What the page edits: a model, its sliders, and how slider values become coefficients."""

    model: object
    names: tuple[str, ...]
    ranges: tuple[tuple[float, float, float], ...]  # low, high, default per slider
    slider_set: object = None
    recent: dict = dataclasses.field(default_factory=dict, compare=False, repr=False)
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock, compare=False,
                                             repr=False)

    def coefficients(self, values, quick: bool = False) -> torch.Tensor:
        """(K,) slider values -> (C,) coefficients; ``quick`` (drafts while dragging) skips
        the metric refinement. A release asks twice at once (the page's full frame and the
        app's event): the second waits for the first's result."""
        if len(values) != len(self.names):
            raise ValueError(f"{len(self.names)} slider values expected, got {len(values)}")
        key = (tuple(float(v) for v in values), quick)
        with self.lock:
            job = self.recent.get(key)
            if job is None:
                job = self.recent[key] = concurrent.futures.Future()
                while len(self.recent) > RECENT:
                    self.recent.pop(next(iter(self.recent)))
                mine = True
            else:
                mine = False
        if mine:
            try:
                job.set_result(self._compute(key[0], quick))
            except Exception as error:  # handed to every waiter, then raised here too
                job.set_exception(error)
                raise
        return job.result().clone()

    @property
    def refines(self) -> bool:
        """Whether a quick shape differs from the full one (metric sliders get refined)."""
        return self.slider_set is not None and self.slider_set.refines

    def _compute(self, values, quick: bool) -> torch.Tensor:
        if self.slider_set is not None:
            values = dict(zip(self.names, values))
            return self.slider_set.coefficients(values, refine=not quick)[0]
        coefficients = self.model.default_coefficients()
        for name, value in zip(self.names, values):
            coefficients[self.model.coefficient_names.index(name)] = value
        return coefficients


@functools.cache
def entry(name: str) -> Entry:
    from semantify.models import load_model

    model_id, folder = ENTRIES[name]
    model = load_model(model_id)
    if folder:
        from semantify.sliders import SliderSet

        sliders = SliderSet.load(ROOT / folder)
        return Entry(model, tuple(s.name for s in sliders.sliders),
                     tuple((s.low, s.high, s.default) for s in sliders.sliders), sliders)
    shown = [model.coefficients[i] for i in model.featured_indices][:6]
    return Entry(model, tuple(c.name for c in shown),
                 tuple((c.low, c.high, c.default) for c in shown))


@functools.cache
def renderer(model):
    from semantify.rendering import interactive_renderer

    return interactive_renderer(model, size=RENDER_SIZE)


@dataclasses.dataclass
class Page:
    """One visitor's page: its view, its choices, the rest mesh of its slider values and the
    one before the last change (the heatmap shows how far that change moved each vertex)."""

    view: str
    values: list[float]
    pose: str = "rest"
    appearance: str = "skin"
    heatmap: bool = False
    rest: np.ndarray | None = None
    before: np.ndarray | None = None
    moved: np.ndarray | None = None


def _measure(model, rest: np.ndarray) -> list[list]:
    """Rows [label, value, unit] of the rest mesh: body measurements, or a head's."""
    from semantify.measure import Anthropometer, has_landmarks
    from semantify.measurements.head import HeadMeter

    meter = Anthropometer.for_model(model) if has_landmarks(model) else HeadMeter.for_model(
        model)
    if meter is None:
        return []
    return [[label, round(float(value), 1), unit]
            for label, value, unit in meter.measure_table(rest[None])]


def _key(page: Page) -> str:
    if not page.heatmap or page.moved is None:
        return ""
    return heatmap.colour_key(float(page.moved.max()))


def build_demo(entry_name: str = "anny-body") -> gr.Blocks:
    """The test page for ``entry_name`` (a key of :data:`ENTRIES`)."""
    from semantify.appearance import material_for
    from semantify.poses import offered_poses, posed_vertices
    from semantify.rendering import framing_for

    current = entry(entry_name)
    model = current.model
    service = FrameService(encode=jpeg_data_url)

    def scene(values, page: Page, quick: bool, anchor):
        """(Scene, rest (V, 3), moved (V,)) for slider ``values`` in the page's choices;
        ``moved``: how far each rest vertex is from ``anchor``'s. ``quick``: no refinement."""
        with torch.no_grad():
            coefficients = current.coefficients(values, quick=quick)[None]
            rest = model(coefficients)
            posed = rest if page.pose == "rest" else posed_vertices(model, coefficients,
                                                                      page.pose)
        rest = rest[0].numpy()
        moved = heatmap.displacement(anchor, rest)
        colors = heatmap.colors(moved) if page.heatmap else None
        final = not (quick and current.refines)
        return Scene(renderer(model), posed[0].numpy(), material_for(model, page.appearance),
                     framing_for(model, page.pose), colors, final), rest, moved

    def update(page: Page, values, quality: str = "full", draw: bool = True):
        """Show the page at slider ``values``; returns the page and its frame (None unless
        ``draw``). Slider drags between updates are drawn by ``follow`` (FrameService)."""
        values = [float(v) for v in values]
        anchor = page.rest if page.rest is None or values != page.values else page.before
        new_scene, rest, moved = scene(values, page, False, anchor)
        page.values, page.rest, page.before, page.moved = values, rest, anchor, moved
        service.show(page.view, new_scene)
        choices = dataclasses.replace(page)  # a drag from here: a change from this rest mesh

        def follow(by_slot: dict[int, float], quick: bool):
            dragged = [by_slot.get(slot, value) for slot, value in enumerate(choices.values)]
            return scene(dragged, choices, quick, rest)[0]

        service.follow(page.view, follow)
        if not draw:
            return page, None
        return page, gr.HTML(value=service.render(page.view, quality), view=page.view)

    def open_page():
        page = Page(view=service.open(), values=[r[2] for r in current.ranges])
        page, frame = update(page, page.values)
        return page, frame, _measure(model, page.rest), _key(page)

    def settle(page: Page, event: gr.EventData):
        """The sliders came to rest (the page drew the frames itself): update the rest."""
        by_slot = slider_pairs((getattr(event, "_data", None) or {}).get("values")) or {}
        values = [by_slot.get(slot, value) for slot, value in enumerate(page.values)]
        page, _ = update(page, values, draw=False)
        return page, _measure(model, page.rest), _key(page)

    def choose(page: Page, pose: str, appearance: str, heat: bool, *values):
        page.pose, page.appearance, page.heatmap = pose, appearance, heat
        page, frame = update(page, values)
        return page, frame, _key(page)

    def reopen(page: Page, *values):
        page.view = service.open()
        return update(page, values)

    def turntable(page: Page):
        from semantify.turntable import write_turntable

        folder = Path(tempfile.mkdtemp(prefix="semantify-turntable-"))
        with torch.no_grad():
            coefficients = current.coefficients(page.values)
        return str(write_turntable(folder / "turntable.mp4", model, coefficients, page.pose,
                                   page.appearance, size=384, frames=48))

    with gr.Blocks(title="Semantify viewer") as demo:
        state = gr.State()
        with gr.Row():
            with gr.Column(scale=3, min_width=420):
                view = orbit_view(service, elem_id="orbit", sliders="#controls")
                key = gr.HTML(elem_id="heat-key")
            with gr.Column(scale=2, min_width=280):
                with gr.Row():
                    pose = gr.Dropdown([p.name for p in offered_poses(model)], value="rest",
                                       label="Pose", elem_id="pose")
                    appearance = gr.Radio(["skin", "clay"], value="skin", label="Look",
                                          elem_id="appearance")
                heat = gr.Checkbox(False, label="Heatmap of the last change", elem_id="heat")
                with gr.Column(elem_id="controls"):
                    sliders = [gr.Slider(low, high, value=default, label=name,
                                         step=Slider(name, low, high, default).step,
                                         elem_id=f"slider-{i}")
                               for i, (name, (low, high, default)) in
                               enumerate(zip(current.names, current.ranges))]
                table = gr.Dataframe(headers=["Measurement", "Value", "Unit"],
                                     label="Measured in the rest pose", elem_id="measures",
                                     interactive=False)
                spin = gr.Button("Turntable (MP4)", elem_id="spin")
                video = gr.File(label="Turntable", elem_id="turntable")
        demo.load(open_page, outputs=[state, view, table, key])
        # A slider drag is drawn by the view (orbit.js), which reports the values at rest.
        view.settle(settle, state, [state, table, key], show_progress="hidden",
                    trigger_mode="always_last")
        for control in (pose, appearance, heat):
            control.change(choose, [state, pose, appearance, heat, *sliders], [state, view, key],
                           show_progress="hidden")
        view.expired(reopen, [state, *sliders], [state, view])
        spin.click(turntable, state, video)
    demo.frame_service = service  # for benches and tests
    return demo
