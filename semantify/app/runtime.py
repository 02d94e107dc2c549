"""Entries resolved once: the slider set, how its sliders sit on the page, and the renderer.

A slider move goes page -> :class:`Runtime` -> ``SliderSet.shape_of`` (mapper, refinement) ->
model -> renderer, and nothing on the way re-reads a file or re-parses a key. Runtimes are
shared by every session (they are read-only; the renderer locks itself) and built on first use.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import functools
import threading
import time
from pathlib import Path

import numpy as np
import torch

from semantify import limits
from semantify.app.catalog import Entry
from semantify.app.slider_labels import SliderLabel, labelled, matches, regions
from semantify.measurements.registry import MEASUREMENTS
from semantify.sets.sliders import RawSliders, SliderSet, raw_sliders

RENDER_SIZE = 512
MAIN_SLOTS = 24  # sliders always shown
EXTRA_SLOTS = 120  # more sliders, in a collapsed accordion
RUNTIMES = 16  # entries kept resolved at once
RECENT_SHAPES = 8  # shapes kept per entry: a slider release asks for the same one twice


@functools.lru_cache(maxsize=64)
def _load_set(folder: str, stamp: float):
    from semantify.sets.sliders import SliderSet

    return SliderSet.load(folder)


def load_set(folder: Path):
    """The slider set in ``folder``, loaded once per version of its sliders.json."""
    folder = Path(folder)
    return _load_set(str(folder), (folder / "sliders.json").stat().st_mtime)


@dataclasses.dataclass(frozen=True, eq=False)
class Panel:
    """Where each slider sits: ``order`` lists slider indices in page order; the first
    ``n_main`` take the main slots, the rest the accordion's, up to the pool's size."""

    order: tuple[int, ...]
    n_main: int
    labels: tuple[SliderLabel, ...] = ()  # per slider index: what the page shows

    @property
    def regions(self) -> list[str]:
        """The regions the sliders fall in, in page order (none for a set of words)."""
        return list(dict.fromkeys(r for r in (self.labels[i].region for i in self.order) if r))

    def shown(self, region: str, text: str) -> dict[int, bool]:
        """{slot: visible} of the page's sliders for a ``region`` choice and filter ``text``."""
        return {slot: matches(self.labels[index], region, text)
                for index, slot in self.slots.items()}

    @functools.cached_property
    def slots(self) -> dict[int, int]:
        """{slider index: pool slot} of the sliders on the page."""
        slots = {}
        for position, index in enumerate(self.order):
            slot = position if position < self.n_main else MAIN_SLOTS + position - self.n_main
            if slot < MAIN_SLOTS + EXTRA_SLOTS:
                slots[index] = slot
        return slots

    def index_of(self, slot: int) -> int | None:
        """The slider index in pool ``slot``, or None for an empty slot."""
        return self._indices.get(slot)

    def placed(self, values, by_slot: dict[int, float]) -> list[float]:
        """(K,) ``values`` with the page's ``{slot: value}`` put in (empty slots ignored)."""
        values = list(values)
        for slot, value in by_slot.items():
            index = self.index_of(slot)
            if index is not None:
                values[index] = value
        return values

    @functools.cached_property
    def _indices(self) -> dict[int, int]:
        return {slot: index for index, slot in self.slots.items()}

    @property
    def hidden(self) -> int:
        """Sliders beyond the pool: they keep their values."""
        return len(self.order) - len(self.slots)


@functools.singledispatch
def panel_of(slider_set: SliderSet) -> Panel:
    """A trained set shows its sliders as they are."""
    count = len(slider_set.sliders)
    return Panel(tuple(range(count)), min(count, MAIN_SLOTS),
                 tuple(SliderLabel("", s.label) for s in slider_set.sliders))


@panel_of.register
def _raw_panel(slider_set: RawSliders) -> Panel:
    """A raw set shows its model's featured coefficients first, then the others grouped by
    region with readable labels (``Chin: cleft``)."""
    count = len(slider_set.sliders)
    labels = tuple(labelled(s.name) for s in slider_set.sliders)
    featured = slider_set.model.featured_indices
    others = [i for i in range(count) if i not in featured]
    place = {region: rank for rank, region in enumerate(regions(s.name for s in
                                                                slider_set.sliders))}
    others.sort(key=lambda i: place.get(labels[i].region, -1))  # stable: model order inside
    return Panel(tuple(featured + others), min(len(featured) or count, MAIN_SLOTS), labels)


@functools.lru_cache(maxsize=8)
def renderer_for(model_ref):
    from semantify.pictures.renderers import interactive_renderer

    return interactive_renderer(model_ref.load(), size=RENDER_SIZE)


def receipt_lines(slider_set, folder) -> dict[str, str]:
    """{word slider: the line the page shows under it}: its receipt (what it does in cm and
    kg), or, for a set evaluated before receipts existed, how to get one."""
    from semantify.sets.receipts import NO_RECEIPTS, read_receipts

    if not slider_set.word_names:
        return {}
    receipts = read_receipts(folder) or {}
    return {name: receipts[name].line() if name in receipts else NO_RECEIPTS
            for name in slider_set.word_names}


class Runtime:
    """One picker entry, resolved: ``slider_set``, ``panel`` and the model's renderer."""

    def __init__(self, entry: Entry):
        self.entry = entry
        self.slider_set = raw_sliders(entry.model_ref) if entry.is_raw else load_set(
            entry.folder)
        if entry.name.startswith("hf://"):  # checked and named when it was listed
            self.slider_set = self.slider_set.as_hub_set(entry.name)
        self.panel = panel_of(self.slider_set)
        self.receipts = receipt_lines(self.slider_set, entry.folder)
        self._recent: dict[tuple, concurrent.futures.Future] = {}
        self._recent_lock = threading.Lock()

    @property
    def renderer(self):
        return renderer_for(self.entry.model_ref)

    def shape(self, values, notes=(), set_names=None):
        """The shape of page values (K,), rounded as the page shows them and clamped once, in
        ``SliderSet.values``; refinement keeps to the per-request budget. ``set_names``: the
        sliders set (None: all; the others follow the body). A slider release asks
        for the same shape twice at once (the viewer's refined frame, then the settle event):
        the second waits for the first's result instead of refining again."""
        set_names = None if set_names is None else tuple(set_names)
        key = (tuple(self.rounded(values)), tuple(notes), set_names)
        with self._recent_lock:
            job = self._recent.get(key)
            mine = job is None
            if mine:
                job = self._recent[key] = concurrent.futures.Future()
                while len(self._recent) > RECENT_SHAPES:
                    self._recent.pop(next(iter(self._recent)))
        if mine:
            try:
                clamped, moved = self.slider_set.values(list(key[0]))
                deadline = time.monotonic() + limits.SHAPE_SECONDS
                job.set_result(self.slider_set.shape_of(clamped[0], moved, notes, deadline,
                                                        set_names))
            except BaseException as error:  # every waiter gets it; the next ask tries again
                job.set_exception(error)
                with self._recent_lock:
                    self._recent.pop(key, None)
                raise
        return job.result()

    def rounded(self, values) -> list[float]:
        """Values rounded to each slider's step precision, as the page shows them."""
        return [round(float(v), s.decimals) for v, s in zip(values, self.slider_set.sliders)]

    def render(self, vertices: np.ndarray, camera, **options) -> np.ndarray:
        """A frame of ``vertices`` (options as ``viewer.InteractiveRenderer.render`` takes)."""
        return self.renderer.render(vertices, camera, **options)

    def table(self, vertices: np.ndarray, values=None, set_names=None) -> list[list]:
        """Rows [measurement, value, unit, target] of the rest-pose shape: a body's
        measurements, a head's (Anny faces), or none. On a set with measurement sliders the
        target says what moved: the value a slider asks for (with the range people with the
        other measurements have), or the value metric refinement holds an unasked length near
        (``values``: the slider values on show). On a set with a body model each slider's row
        says whether it is set or free (``set_names``: the set ones; None: all), and a set
        value the body misses is marked MISSED."""
        meter = self.slider_set.meter
        if meter is None:
            return []
        rows = meter.measure_table(torch.as_tensor(vertices))
        by_label = {m.label: m.name for m in MEASUREMENTS.values()}
        if values is None:
            targets = {}
        elif self.slider_set.body_model is not None:
            measured = {by_label.get(label): float(value) for label, value, _ in rows}
            targets = self._person_targets(values, set_names, measured)
        else:
            targets = self._targets(values)
        return [[label, round(float(value), 1), unit, targets.get(by_label.get(label), "")]
                for label, value, unit in rows]

    def _person_targets(self, values, set_names, measured: dict[str, float]) -> dict[str, str]:
        from semantify.sets.coupling import MET

        slider_set = self.slider_set
        set_names = tuple(slider_set.names if set_names is None else set_names)
        bands = slider_set.person_fit.bands(torch.as_tensor(list(values), dtype=torch.float64),
                                            set_names)
        targets = {}
        for slider, value, (low, high) in zip(slider_set.sliders, values, bands):
            if slider.measurement is None:
                continue
            if slider.name not in set_names:
                targets[slider.name] = "free: the body's own"
                continue
            missed = abs(measured.get(slider.name, value) - float(value)) > MET[slider.unit]
            targets[slider.name] = (f"{'⚠ MISSED, ' if missed else 'set: '}asked "
                                    f"{float(value):.1f} (people: {low:.0f}-{high:.0f})")
        return targets

    def _targets(self, values) -> dict[str, str]:
        slider_set = self.slider_set
        if not slider_set.metric_names:
            return {}
        bands = slider_set.ranges(list(values))
        coupled = set(slider_set.coupling.names) if slider_set.coupling else set()
        asked = {name: f"asked {float(value):.1f}" + (
            f" (people: {bands[name][0]:.0f}-{bands[name][1]:.0f})" if name in coupled else "")
            for name, value in zip(slider_set.names, values) if name in slider_set.metric_names}
        held = {name: f"held near {float(value[0]):.1f}"
                for name, value in slider_set.held_measurements(list(values)).items()}
        return {**held, **asked}


_runtimes: dict[str, Runtime] = {}
_lock = threading.Lock()


def is_resolved(entry: Entry) -> bool:
    """Whether ``entry`` is resolved already (its model loaded)."""
    with _lock:
        return entry.id in _runtimes


def warm_up(entry: Entry) -> None:
    """Resolve ``entry``, draw a full frame and a draft and import what a first page load
    imports, so the first visitor does not wait (Anny builds its cache on a new machine:
    about a minute; the imports cost a first page load about 1.2 s)."""
    import matplotlib.pyplot  # noqa: F401 - Gradio imports it at its first event

    from semantify.clip.loading import import_open_clip
    from semantify.pictures.appearance import material_for
    from viewer.camera import OrbitCamera

    import_open_clip()  # the first-build row asks whether CLIP's weights are here

    resolved = runtime(entry)
    skin = material_for(resolved.slider_set.model, "skin")  # bakes the skin texture once
    vertices = resolved.shape(resolved.slider_set.defaults).vertices
    for quality in ("full", "draft"):  # the driver compiles each kind of frame once
        resolved.render(vertices, OrbitCamera(), material=skin, quality=quality)


def runtime(entry: Entry) -> Runtime:
    """The shared runtime of ``entry`` (built on first use; the oldest dropped beyond
    RUNTIMES)."""
    with _lock:
        found = _runtimes.get(entry.id)
        if found is not None and found.entry == entry:
            return found
    built = Runtime(entry)
    with _lock:
        _runtimes[entry.id] = built
        while len(_runtimes) > RUNTIMES:
            _runtimes.pop(next(iter(_runtimes)))
    return built
