"""The slider set: the one object the CLI, the app and Python hold to shape a model.

A :class:`SliderSet` has sliders (name, range, default) over a morphable model and turns slider
values into coefficients. Trained sets (:class:`TrainedSliders`) map descriptor values through a
mapper, then, for measurements (``height_cm``, ``mass_kg``...), refine the body until it
measures what was asked (:mod:`semantify.sets.metric_fit`). Raw sets (:func:`raw_sliders`) are the
model's own coefficients. Everything else (photos, text, random shapes) is in
:mod:`semantify.sets.inference` and reached through the methods here.

Values are validated and clamped into the slider ranges exactly once, in :meth:`SliderSet.shape`
or :meth:`SliderSet.coefficients`; what was clamped is reported on the :class:`Shape`, never
printed. Files: :mod:`semantify.sets.slider_files`.
"""

from __future__ import annotations

import abc
import dataclasses
import functools
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch

from semantify.errors import SemantifyError
from semantify.measurements.registry import Measurement, measurement
from semantify.models.reference import ModelRef

STEPS = 200  # a slider's range divided into this many steps


@dataclasses.dataclass(frozen=True)
class Slider:
    """One slider: a descriptor (a CLIP word or a measurement) or a model coefficient."""

    name: str
    low: float
    high: float
    default: float

    @classmethod
    def readable(cls, name: str, low: float, high: float, default: float) -> Slider:
        """A slider whose range and default are rounded to the precision of its step (data
        percentiles such as 121.23221061706543 cm become 121.2)."""
        decimals = decimals_of((high - low) / STEPS)
        scale = 10.0 ** decimals
        # round(., 6) first: 0.29 * 100 is 28.999999999999996, whose floor would lose a step
        low = math.floor(round(low * scale, 6)) / scale
        high = math.ceil(round(high * scale, 6)) / scale
        return cls(name, low, high, min(max(round(default, decimals), low), high))

    @property
    def measurement(self) -> Measurement | None:
        return measurement(self.name)

    @property
    def unit(self) -> str | None:
        known = self.measurement
        return known.unit if known else None

    @property
    def label(self) -> str:
        """What people read: ``Height (cm)`` for a measurement, ``Build (female–male)`` for a
        phenotype, the word itself otherwise."""
        from semantify.measurements.conditional import phenotype

        known, build = self.measurement, phenotype(self.name)
        return known.heading if known else build.label if build else self.name

    @property
    def step(self) -> float:
        """A round step, the power of ten that divides the range into at least STEPS (0.1 cm,
        0.1 kg): a typed 185 stays 185, never the nearest odd multiple of a 200th."""
        return 10.0 ** -self.decimals

    @property
    def decimals(self) -> int:
        return decimals_of((self.high - self.low) / STEPS)

    def clamp(self, value: float) -> float:
        return min(max(float(value), self.low), self.high)


def decimals_of(step: float) -> int:
    """Decimals that show a value to the precision of ``step`` (0 for steps of 1 or more)."""
    return max(0, -math.floor(math.log10(max(step, 1e-9))))


def trained_sliders(names: Sequence[str], values: torch.Tensor):
    """Sliders for (N, K) training descriptor values and the scale of their words: word
    sliders run 0-100 (percentiles of the training scores, default the median, see
    :mod:`semantify.sets.word_scale`), the others as :func:`sliders_from_values`. Returns
    (sliders, WordScale or None)."""
    from semantify.sets.word_scale import DEFAULT, HIGH, LOW, WordScale

    words = [i for i, name in enumerate(names) if measurement(name) is None]
    sliders = sliders_from_values(names, values)
    if not words:
        return sliders, None
    for i in words:
        sliders[i] = Slider(names[i], LOW, HIGH, DEFAULT)
    return sliders, WordScale.fit([names[i] for i in words], values[:, words])


def sliders_from_values(names: Sequence[str], values: torch.Tensor) -> list[Slider]:
    """Sliders for (N, K) training descriptor values: range [p1, p99], default the median."""
    values = values.to(torch.float64)
    quantiles = torch.tensor([0.01, 0.5, 0.99], dtype=torch.float64)
    low, median, high = torch.quantile(values, quantiles, dim=0)
    return [Slider.readable(n, float(lo), float(hi), float(m))
            for n, lo, m, hi in zip(names, low, median, high)]


@dataclasses.dataclass(frozen=True)
class Refine:
    """Metric refinement of a set with measurement sliders: Gauss-Newton ``iterations`` (0
    turns it off) on the ``free`` coefficients (None: the model's refinable ones)."""

    iterations: int = 3
    free: tuple[str, ...] | None = None


@dataclasses.dataclass(frozen=True, eq=False)
class Shape:
    """A result: clamped slider ``values`` (K,), the (C,) ``coefficients`` they give and the
    (V, 3) float32 rest-pose ``vertices``. ``clamped`` names the sliders whose asked value was
    outside the range; ``notes`` says what else happened (a prompt cut, a fallback, set values
    the body misses). ``free`` names the sliders nobody set: their values are the body's own
    (a set with a body model), the others were asked."""

    slider_set: SliderSet
    values: tuple[float, ...]
    coefficients: torch.Tensor
    vertices: np.ndarray
    clamped: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    free: tuple[str, ...] = ()

    @property
    def named_values(self) -> dict[str, float]:
        return dict(zip(self.slider_set.names, self.values))

    @property
    def set_values(self) -> dict[str, float]:
        """{name: value} of the sliders that were set (not free)."""
        return {n: v for n, v in self.named_values.items() if n not in self.free}

    def posed(self, pose="rest") -> np.ndarray:
        """(V, 3) float32 vertices of this shape in ``pose`` (a name of
        :func:`semantify.poses.pose_names`, or a :class:`semantify.poses.Pose`); measurements
        stay those of the rest pose."""
        from semantify.poses import posed_vertices

        with torch.no_grad():
            return posed_vertices(self.slider_set.model, self.coefficients[None],
                                  pose)[0].cpu().numpy()

    def params(self, pose: str | None = None):
        """The :class:`semantify.sets.params.Params` that reproduce this shape (in ``pose``,
        a pose name of its model; refused in one line if the model has no such pose)."""
        params = self.slider_set.params(self.coefficients.tolist(), self.values, pose,
                                        tuple(self.set_values))
        if pose is not None:
            params.check(self.slider_set.model, "pose")  # as any params file is checked
        return params

    def save(self, path: Path | str, pose="rest", appearance: str = "clay", rig: bool = False,
             shape_keys: bool = False) -> Path:
        """Write the mesh to ``path``: .obj (with UVs), .ply or .glb (which carries the
        ``appearance``, skin or clay), in ``pose`` (a name or a Pose), with smooth normals
        and a body's feet at y = 0. A .glb may carry a ``rig`` (bind pose rest, joints in
        ``pose``) and the sliders as ``shape_keys`` (see :mod:`semantify.export`)."""
        from semantify.export import export_shape

        return export_shape(self, path, pose, appearance, rig, shape_keys).path

    def measurements(self) -> dict[str, float]:
        """{name: value} of the body's measurements (empty for models without landmarks)."""
        meter = self.slider_set.anthropometer
        if meter is None:
            return {}
        values = meter.measure(torch.as_tensor(self.vertices)[None])
        return {name: float(value[0]) for name, value in values.items()}

    def __repr__(self) -> str:
        """``Shape(anny-body-metric: height_cm=180, ...; measured height_cm=180.0, ...)``: the
        values, measurements and notes, not the tensors."""
        parts = [", ".join(f"{n}={v:.4g}" for n, v in self.named_values.items())]
        measured = self.measurements()
        if measured:
            parts.append("measured " + ", ".join(f"{n}={v:.1f}" for n, v in measured.items()))
        parts += [f"clamped {', '.join(self.clamped)}"] if self.clamped else []
        parts += [f"note: {note}" for note in self.notes]
        return f"Shape({self.slider_set.name}: {'; '.join(parts)})"


class SliderSet(abc.ABC):
    """Sliders over a model: (B, K) values -> (B, C) coefficients -> meshes.

    ``name`` is what people call it (its folder's name); ``root`` its folder (None for raw
    sets). Heavy parts (the model, the anthropometer, CLIP) are built on first use and shared.
    """

    @staticmethod
    def load(source: Path | str) -> TrainedSliders:
        """The slider set in folder ``source``, or on the Hugging Face Hub as
        ``hf://OWNER/NAME[@REVISION]``; damaged, tampered or invalid sets are refused with one
        line (see :mod:`semantify.sets.slider_files` and :mod:`semantify.sets.hub`)."""
        from semantify.sets.hub import is_hub_path, resolve_slider_set
        from semantify.sets.slider_files import load

        if not isinstance(source, (str, os.PathLike)):
            raise SemantifyError(f"a slider set is a folder path or hf://OWNER/NAME, not "
                                 f"{type(source).__name__} {str(source)[:40]!r}.")
        folder = resolve_slider_set(source)  # the raw text: Path() would fold "hf://"
        sliders = load(folder)
        return sliders.as_hub_set(source) if is_hub_path(source) else sliders

    def as_hub_set(self, source: str) -> SliderSet:
        """A copy of this set, loaded from the Hub as ``source``: named by it, with no
        dataset, and refused if it names a local CLIP checkpoint (a file on the server, not on
        the Hub). This set itself (perhaps cached and shared) is left as it is."""
        import copy

        from semantify.sets.hub import HubRef

        if self.clip is not None and self.clip.checkpoint:
            raise SemantifyError(f"slider set {source} names a local CLIP checkpoint file; "
                                 "a set on the Hub must name its weights by a hub tag.")
        hub_set = copy.copy(self)  # shares the weights and what was built from them
        hub_set.name, hub_set.dataset = str(HubRef.parse(str(source))), None
        return hub_set

    def __init__(self, name: str, sliders: Sequence[Slider], model_ref: ModelRef,
                 root: Path | None = None):
        self.name = name
        self.sliders = tuple(sliders)
        self.model_ref = model_ref
        self.root = None if root is None else Path(root)
        self.clip = None
        self.template: str | None = None
        self.dataset: Path | None = None
        self.coupling = None  # semantify.sets.coupling.Coupling of the measurement sliders, or None
        self.word_scale = None  # semantify.sets.word_scale.WordScale: word sliders in percentiles
        self.body_model = None  # semantify.measurements.conditional.BodyModel, or None
        self._low = torch.tensor([s.low for s in self.sliders], dtype=torch.float64)
        self._high = torch.tensor([s.high for s in self.sliders], dtype=torch.float64)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {len(self.sliders)} sliders)"

    # -- what it is ---------------------------------------------------------------------------

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.sliders]

    @property
    def defaults(self) -> list[float]:
        return [s.default for s in self.sliders]

    @property
    def metric_names(self) -> list[str]:
        """The sliders that are measurements (met by refinement)."""
        return [s.name for s in self.sliders if s.measurement is not None]

    @property
    def refines(self) -> bool:
        """Whether metric refinement moves this set's shapes (so a quick shape, made without
        it, differs from the full one)."""
        return False

    @property
    def word_names(self) -> list[str]:
        """The sliders that are CLIP words (not measurements, nor phenotypes of a body model)."""
        from semantify.measurements.conditional import phenotype

        return [s.name for s in self.sliders if s.measurement is None
                and (self.body_model is None or phenotype(s.name) is None)]

    @property
    def model_id(self) -> str:
        return self.model_ref.id

    @functools.cached_property
    def model(self):
        """The morphable model these sliders drive (built once per process)."""
        return self.model_ref.load()

    @functools.cached_property
    def anthropometer(self):
        """The model's measurer, or None when it has no body landmarks (faces, animals)."""
        from semantify.measurements.anthropometer import Anthropometer, has_landmarks

        return Anthropometer.for_model(self.model) if has_landmarks(self.model) else None

    @functools.cached_property
    def meter(self):
        """What measures this set's meshes: the body's :attr:`anthropometer`, else a head's
        (:class:`semantify.measurements.head.HeadMeter`, Anny's faces), else None."""
        from semantify.measurements.head import HeadMeter

        return self.anthropometer or HeadMeter.for_model(self.model)

    # -- values -> coefficients -> shape ------------------------------------------------------

    def values(self, values=None, **named) -> tuple[torch.Tensor, tuple[str, ...]]:
        """Slider values -> ((B, K) float64 clamped into the ranges, names of clamped sliders).

        ``values`` is a {name: value} mapping (unset sliders take their defaults), a (K,) or
        (B, K) array, or None (the defaults); ``named`` are more {name: value} pairs.
        """
        if values is None or isinstance(values, Mapping):
            given = {**(values or {}), **named}
            unknown = [name for name in given if name not in self.names]
            if unknown:
                raise SemantifyError(f"unknown slider {str(unknown[0])[:60]!r}; this set's "
                                     f"sliders: {', '.join(self.names)}.")
            values = [[given.get(s.name, s.default) for s in self.sliders]]
        elif named:
            raise SemantifyError("pass slider values either as an array or by name, not both.")
        try:
            values = torch.as_tensor(np.asarray(values, dtype=np.float64))
        except (TypeError, ValueError):
            raise SemantifyError("slider values must be numbers.") from None
        if values.ndim == 1:
            values = values[None]
        if values.ndim != 2 or values.shape[1] != len(self.sliders):
            raise SemantifyError(f"this slider set takes {len(self.sliders)} values per row "
                                 f"({', '.join(self.names[:8])}), got shape "
                                 f"{tuple(values.shape)}.")
        if not torch.isfinite(values).all():
            raise SemantifyError("slider values contain NaN or inf; pass finite numbers.")
        clamped = torch.maximum(torch.minimum(values, self._high), self._low)
        moved = (clamped != values).any(0).tolist()
        return clamped, tuple(name for name, m in zip(self.names, moved) if m)

    def ranges(self, values=None, **named) -> dict[str, tuple[float, float]]:
        """{slider name: (low, high)} given the others' ``values`` (as :meth:`values` takes
        them): each slider's own range, narrowed for coupled measurement sliders to the band of
        bodies with the other measurements (see :mod:`semantify.sets.coupling`). Sliders are never
        clamped to a band: a value outside it asks for a body no person has, which
        refinement approaches while keeping the body human."""
        clamped, _ = self.values(values, **named)
        low, high = self._low.clone(), self._high.clone()
        if self.body_model is not None:
            return dict(zip(self.names, self.person_fit.bands(clamped[0],
                                                              self.set_names(values, named))))
        if self.coupling is not None:
            index = [self.names.index(name) for name in self.coupling.names]
            band_low, band_high = self.coupling.limits(
                clamped[:1, index], self._low[index], self._high[index])
            low[index], high[index] = band_low[0], band_high[0]
        return dict(zip(self.names, zip(low.tolist(), high.tolist())))

    def coefficients(self, values=None, refine: bool = True) -> torch.Tensor:
        """Slider values (as :meth:`values` takes them) -> (B, C) float32 coefficients. On a
        set with a body model, sliders missing from a {name: value} mapping are free."""
        clamped, _ = self.values(values)
        return self._coefficients(clamped, refine, set_names=self.set_names(values, {}))

    def set_names(self, values, named: Mapping) -> tuple[str, ...]:
        """The sliders a call sets: those named (``values`` a mapping, or None, and ``named``),
        or all of them (``values`` an array)."""
        if values is None or isinstance(values, Mapping):
            given = {**(values or {}), **named}
            return tuple(name for name in self.names if name in given)
        return tuple(self.names)

    @abc.abstractmethod
    def _coefficients(self, values: torch.Tensor, refine: bool = True,
                      deadline: float | None = None,
                      set_names: Sequence[str] | None = None) -> torch.Tensor:
        """(B, K) clamped values -> (B, C) coefficients within the model's ranges;
        ``set_names``: the sliders that were set (None: all)."""

    def held_measurements(self, values=None, **named) -> dict[str, torch.Tensor]:
        """{name: (B,)} the reference values of the skeletal lengths no slider asks for (arm
        length, shoulder width, inseam...), which metric refinement holds (within ~4 mm): what
        the mapper's body for these values, with the girth and mass sliders at their defaults,
        measures. Empty for sets without measurement sliders. The app's measurement table can
        show each next to the shape's own value ("what moved")."""
        return {}

    def shape(self, values=None, **named) -> Shape:
        """The shape these slider values give (unset sliders at their defaults)::

            s.shape(height_cm=180, mass_kg=80).save("body.glb")
        """
        clamped, moved = self.values(values, **named)
        if clamped.shape[0] != 1:
            raise SemantifyError("shape() makes one shape; use coefficients() for a batch.")
        return self.shape_of(clamped[0], moved, set_names=self.set_names(values, named))

    def shape_of(self, values: torch.Tensor, clamped: tuple[str, ...] = (),
                 notes: Sequence[str] = (), deadline: float | None = None,
                 set_names: Sequence[str] | None = None) -> Shape:
        """The :class:`Shape` of (K,) values already clamped into the ranges. ``deadline``: a
        ``time.monotonic()`` by which refinement must stop (a server's budget). ``set_names``:
        the sliders set (None: all); on a set with a body model the others are free and take
        the body's own values."""
        set_names = tuple(self.names) if set_names is None else tuple(set_names)
        notes = (*(f"{s.label}: the value asked is beyond the slider ({s.low:g}-{s.high:g}); "
                   f"{float(values[i]):g} was used." for i, s in enumerate(self.sliders)
                   if s.name in clamped), *notes, *self.encoder_notes)
        coefficients = self._coefficients(values[None], deadline=deadline,
                                          set_names=set_names)[0]
        with torch.no_grad():
            vertices = self.model(coefficients[None])[0].cpu().numpy()
        if self.body_model is None:
            return Shape(self, tuple(float(v) for v in values), coefficients, vertices,
                         clamped, (*notes, *self.beyond_bands(values)))
        shown, misses = self.person_fit.outcome(values, set_names, coefficients, vertices)
        free = tuple(n for n in self.names if n not in set_names)
        return Shape(self, shown, coefficients, vertices, clamped, (*notes, *misses), free)

    @property
    def encoder_notes(self) -> tuple[str, ...]:
        """What every shape of a set whose words were not scored by real CLIP says: random
        weights (its words mean nothing) or the geometry test encoder."""
        clip = self.clip
        if clip is None or (clip.is_semantic and not clip.is_geometry):
            return ()
        if clip.is_geometry:
            return (("word sliders from the geometry TEST encoder, not CLIP: they mean what "
                     "its lexicon says about the silhouette."),)
        return ((f"word sliders from random CLIP weights ({clip.label}): their names mean "
                 "nothing; for testing only."),)

    def in_slider_units(self, values: torch.Tensor) -> torch.Tensor:
        """(B, K) descriptor values (raw CLIP scores for words, as scored or stored) -> the
        sliders' units: word sliders in percentiles when the set has a word scale."""
        return self._convert(values, to_raw=False)

    def raw_values(self, values: torch.Tensor) -> torch.Tensor:
        """(B, K) slider values -> the descriptor values the mapper reads (raw scores)."""
        return self._convert(values, to_raw=True)

    def _convert(self, values: torch.Tensor, to_raw: bool) -> torch.Tensor:
        scale = self.word_scale
        if scale is None:
            return values
        index = [self.names.index(name) for name in scale.names]
        out = torch.as_tensor(values).clone()
        out[:, index] = (scale.to_raw if to_raw else scale.to_percent)(out[:, index])
        return out

    def _human(self, values: torch.Tensor) -> torch.Tensor:
        """(B, K) values with the coupled measurements moved to the nearest combination people
        have: what the mapper, trained on people, is asked (refinement then aims at the values
        asked). The mapper's guess for a combination nobody has is no body at all: a 120 cm
        waist on a 78 kg body gave it a 142 cm, 41 kg one."""
        if self.coupling is None:
            return values
        index = [self.names.index(name) for name in self.coupling.names]
        span = (self._high - self._low)[index]
        human = values.to(torch.float64).clone()
        human[:, index] = self.coupling.project(human[:, index], span).clamp(
            self._low[index], self._high[index])
        return human.to(values.dtype)

    def beyond_bands(self, values) -> tuple[str, ...]:
        """A note when (K,) ``values`` ask coupled measurements no person has together, naming
        the slider the nearest human combination moves most (in slider spans); or ()."""
        if self.coupling is None:
            return ()
        from semantify.sets.coupling import MET

        values = torch.as_tensor(values, dtype=torch.float64)[None]
        moved = (self._human(values) - values)[0].abs()
        span = (self._high - self._low).clamp_min(1e-9)
        far = [i for i, s in enumerate(self.sliders)
               if s.name in self.coupling.names and float(moved[i]) > MET[s.unit]]
        if not far:
            return ()
        i = max(far, key=lambda j: float(moved[j] / span[j]))
        low, high = self.ranges(values)[self.names[i]]
        return (f"{self.sliders[i].label} {float(values[0, i]):.1f} is outside what people with "
                f"the other measurements have ({low:.0f}-{high:.0f}): the body stays human and "
                "misses some asked values.",)

    def shape_from_params(self, params, source: str = "params") -> Shape:
        """The shape a :class:`semantify.sets.params.Params` asks of this set: its slider values
        (a raw set: its coefficients, which any set of the model made)."""
        if params.model.id != self.model_id:
            raise SemantifyError(f"{source} is for model {params.model.id!r}; this slider set "
                                 f"drives {self.model_id!r}; use a set for {params.model.id}.")
        given = self._given_by(params, source)
        params.check(self.model, source)
        unknown = [name for name in given if name not in self.names]
        if unknown:
            raise SemantifyError(f"{source} has slider {unknown[0][:60]!r}, which slider set "
                                 f"{self.name!r} does not have; use the set it was made with "
                                 f"({params.slider_set or 'raw coefficients'}).")
        return self.shape(given)

    @abc.abstractmethod
    def _given_by(self, params, source: str) -> dict[str, float]:
        """{slider name: value} that :class:`semantify.sets.params.Params` ``params`` set, or a
        one-line error naming ``source`` when they were made for another set."""

    @abc.abstractmethod
    def params(self, coefficients: Sequence[float], values: Sequence[float],
               pose: str | None = None, set_names: Sequence[str] | None = None):
        """The :class:`semantify.sets.params.Params` of (C,) ``coefficients`` shown at (K,) slider
        ``values`` in ``pose``; ``set_names``: the sliders set (None: all)."""

    def kind_of(self, slider: Slider) -> str:
        """What ``slider`` is: a measurement, a word (CLIP), a phenotype (of a set's body
        model) or a coefficient (of a raw set)."""
        if slider.measurement is not None:
            return "measurement"
        return "word" if slider.name in self.word_names else "phenotype"

    @abc.abstractmethod
    def described(self, coefficients: torch.Tensor) -> torch.Tensor:
        """(B, C) coefficients -> (B, K) this set's slider values that describe them."""

    # -- photos, text, random (semantify.sets.inference) -------------------------------------------

    def fit_photos(self, photos, crops=None, start=None) -> Shape:
        """The shape whose CLIP sliders are the mean scores of ``photos`` (paths or PIL images;
        ``crops``: one (x, y, w, h) box or None per photo), or, for photos of other sides than
        the set was trained on, the scores they predict (:mod:`semantify.sets.photo_views`);
        measurement sliders keep ``start`` (a {name: value} map; default: the defaults)."""
        from semantify.sets.inference import fit_photos

        return fit_photos(self, photos, crops, start)

    def from_text(self, prompt: str, method: str = "retrieval", start=None) -> Shape:
        """The shape a free-text prompt describes: ``retrieval`` (the dataset samples whose
        images best match the prompt) or ``mapper`` (the prompt scored like a photo)."""
        from semantify.sets.inference import from_text

        return from_text(self, prompt, method, start)

    def random(self, seed: int) -> Shape:
        """A shape drawn from the model's sampling prior, as this set's slider values."""
        from semantify.sets.inference import random_shape

        return random_shape(self, seed)


class TrainedSliders(SliderSet):
    """A slider set with a trained mapper from descriptor values to coefficients.

    ``clip`` is the :class:`semantify.clip.ClipSpec` of its words (None for measurement-only
    sets), ``template`` the prompt template text, ``dataset`` the folder it was trained on
    (None when it was not kept), ``training`` how it was trained (informational).
    """

    def __init__(self, name: str, sliders: Sequence[Slider], model_ref: ModelRef, mapper,
                 coefficient_names: Sequence[str], clip=None, template: str | None = None,
                 dataset: Path | None = None, training: Mapping | None = None,
                 refine: Refine | None = None, root: Path | None = None, coupling=None,
                 body_model=None, word_scale=None, photo_views=None):
        super().__init__(name, sliders, model_ref, root)
        self.word_scale = word_scale
        self.photo_views = photo_views  # semantify.sets.photo_views.PhotoViews, or None
        self.body_model = body_model
        self.mapper = mapper.eval()
        self.coefficient_names = tuple(coefficient_names)
        self.clip = clip
        self.template = template
        self.dataset = None if dataset is None else Path(dataset)
        self.training = dict(training or {})
        self.refine = refine if refine is not None else Refine()
        self.coupling = coupling
        if self.word_names and clip is None:
            raise SemantifyError(f"slider set {name!r} has words ({self.word_names[0]}, ...) but "
                                 "no CLIP model; retrain it.")
        if word_scale is not None and not set(word_scale.names) <= set(self.word_names):
            raise SemantifyError(f"slider set {name!r} has percentiles for words it has no "
                                 "slider for; retrain it.")

    @functools.cached_property
    def model(self):
        model = self.model_ref.load()
        if model.coefficient_names != list(self.coefficient_names):
            raise SemantifyError(
                f"slider set {self.name!r} was trained on {len(self.coefficient_names)} "
                f"coefficients of {self.model_id} that differ from this installation's "
                f"{model.num_coefficients}; retrain it with this version of the model.")
        return model

    @functools.cached_property
    def person_fit(self):
        """The :class:`semantify.sets.metric_fit.PersonFit` of a set with a body model: set
        sliders pinned, free ones following the most likely person."""
        from semantify.measurements.anthropometer import Anthropometer
        from semantify.sets.metric_fit import PersonFit

        return PersonFit(self.model, Anthropometer.for_model(self.model), self.body_model,
                         self.sliders, self.refine.iterations, self.refine.free)

    @functools.cached_property
    def refiner(self):
        """The :class:`semantify.sets.metric_fit.MeasurementRefiner` of the metric sliders."""
        from semantify.measurements.anthropometer import Anthropometer
        from semantify.sets.metric_fit import MeasurementRefiner

        return MeasurementRefiner(self.model, Anthropometer.for_model(self.model),
                                  self.metric_names, self.refine.free, self.refine.iterations)

    def _coefficients(self, values: torch.Tensor, refine: bool = True,
                      deadline: float | None = None,
                      set_names: Sequence[str] | None = None) -> torch.Tensor:
        if self.body_model is not None:  # the mapper is the body model with every slider set
            return self.person_fit(values, self.names if set_names is None else set_names,
                                   refine and self.refines, deadline)
        with torch.no_grad():
            coefficients = self.mapper(self.raw_values(self._human(values)).to(torch.float32))
        ranges = self.model.ranges
        coefficients = torch.maximum(torch.minimum(coefficients, ranges[:, 1]), ranges[:, 0])
        if not (refine and self.refines):
            return coefficients
        targets = {name: values[:, self.names.index(name)].float() for name in self.metric_names}
        return self.refiner(coefficients, targets, self._held(values), deadline)

    @property
    def refines(self) -> bool:
        return bool(self.metric_names) and self.refine.iterations > 0

    def _given_by(self, params, source: str) -> dict[str, float]:
        if params.slider_set not in (None, self.name):
            raise SemantifyError(f"{source} was made with slider set {params.slider_set!r}, not "
                                 f"{self.name!r}; load it into {params.slider_set!r}, or into "
                                 f"the raw coefficients of {self.model_id}.")
        return params.set_values

    def params(self, coefficients, values, pose=None, set_names=None):
        from semantify.sets.params import Params

        return Params(self.model_ref, tuple(zip(self.model.coefficient_names, coefficients)),
                      tuple(zip(self.names, values)), self.name, pose,
                      None if set_names is None else tuple(set_names))

    def described(self, coefficients: torch.Tensor) -> torch.Tensor:
        """Measurements, and phenotypes as coefficients (a body model), or what the words'
        scorer and the anthropometer read from the meshes."""
        if self.body_model is not None:
            return self.person_fit.describe(coefficients)
        with torch.no_grad():
            return _descriptor_meter(self)(self.model(coefficients))

    def held_measurements(self, values=None, **named) -> dict[str, torch.Tensor]:
        clamped, _ = self.values(values, **named)
        return self._held(clamped) or {}

    def _held(self, values: torch.Tensor) -> dict[str, torch.Tensor] | None:
        """{held name: (B,)} for (B, K) clamped values, or None when nothing is held: the
        lengths of the mapper's body with the girth and mass sliders at their defaults, scaled
        by asked height / that body's height when height is a slider (lengths grow with it)."""
        if self.body_model is not None or not (self.refines and self.refiner.held):
            return None
        reference = values.clone()
        for i, slider in enumerate(self.sliders):
            if slider.measurement is not None and not slider.measurement.skeletal:
                reference[:, i] = slider.default
        with torch.no_grad():
            coefficients = self.mapper(self.raw_values(reference).to(torch.float32))
        refiner = self.refiner
        coefficients = torch.maximum(torch.minimum(coefficients, refiner.high), refiner.low)
        if "height_cm" not in self.names:
            return refiner.measure_held(coefficients)
        with torch.no_grad():
            measured = refiner.anthropometer.measure(self.model(coefficients))
        scale = values[:, self.names.index("height_cm")].float() / measured["height_cm"].float()
        return {name: measured[name].float() * scale for name in refiner.held}

    def open_dataset(self):
        """The dataset this set was trained on, or a one-line error saying it is not here."""
        from semantify.data.dataset import open_dataset

        if self.dataset is None or not (self.dataset / "manifest.json").is_file():
            raise SemantifyError(
                f"slider set {self.name!r} was saved without its training dataset (text "
                "retrieval, new words and evaluation need it); rebuild the set, or evaluate "
                "with --data DIR.")
        return open_dataset(self.dataset)

    @functools.cached_property
    def scorer(self):
        """The CLIP scorer of this set's words, or a one-line error for a metric-only set."""
        if self.clip is None:
            raise SemantifyError(
                f"slider set {self.name!r} has no CLIP words (measurements only), so it cannot "
                "fit photos or text; use a set with word sliders.")
        from semantify.clip import load_clip

        return load_clip(self.clip)

    @functools.cached_property
    def word_embeds(self) -> torch.Tensor:
        """(K_words, D) text embeddings of the word sliders in the set's template."""
        return self.scorer.encode_text(self.word_names, self.template or "{}")

    def save(self, root: Path | str, metrics: Mapping | None = None,
             selection: Path | str | None = None) -> Path:
        """Write this set into folder ``root`` atomically (built beside it, swapped in)."""
        from semantify.sets.slider_files import save

        return save(self, Path(root), metrics, selection)


@functools.lru_cache(maxsize=8)
def _descriptor_meter(slider_set: TrainedSliders):
    """The :class:`semantify.descriptors.describe.DescriptorMeter` of ``slider_set`` (a few
    kept)."""
    from semantify.descriptors.describe import DescriptorMeter

    return DescriptorMeter(slider_set)


def raw_sliders(model_ref: ModelRef) -> RawSliders:
    """The model's own coefficients as sliders (its featured ones first)."""
    return RawSliders(model_ref)


class RawSliders(SliderSet):
    """A model's own coefficients as sliders: the values are the coefficients. It has no
    words and no measurement sliders, and params of any set of its model load into it."""

    def __init__(self, model_ref: ModelRef):
        model = model_ref.load()
        sliders = [Slider(c.name, float(c.low), float(c.high), float(c.default))
                   for c in model.coefficients]
        super().__init__(f"{model_ref.label} (raw coefficients)", sliders, model_ref)
        self.model = model

    def _coefficients(self, values: torch.Tensor, refine: bool = True,
                      deadline: float | None = None,
                      set_names: Sequence[str] | None = None) -> torch.Tensor:
        return values.to(torch.float32)

    @property
    def word_names(self) -> list[str]:
        return []

    @property
    def metric_names(self) -> list[str]:
        return []

    def kind_of(self, slider: Slider) -> str:
        return "measurement" if slider.measurement is not None else "coefficient"

    def _given_by(self, params, source: str) -> dict[str, float]:
        return params.coefficient_values

    def params(self, coefficients, values, pose=None, set_names=None):
        from semantify.sets.params import Params

        return Params(self.model_ref, tuple(zip(self.model.coefficient_names, coefficients)),
                      (), None, pose, None)

    def described(self, coefficients: torch.Tensor) -> torch.Tensor:
        return coefficients
