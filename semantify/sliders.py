"""The slider set: a trained mapper plus everything needed to use it, as one portable folder.

Layout of a slider set folder::

    DIR/sliders.json         format, model, descriptors, template, CLIP spec, sliders,
                             standardisation, MLP sizes, sha256 of the weights, and the dataset
                             (relative to DIR when it sits beside or inside DIR, else absolute)
    DIR/mapper.safetensors   the mapper's weights and standardisation buffers (no pickle)
    DIR/metrics.json         training metrics
    DIR/selection/           the descriptor selection report, when training was given one

Slider values outside their range are clamped to it, with a one-line warning on stderr.
Ranges and defaults come from the training data: [p1, p99] of each descriptor, default median.
Metric sliders (``height_cm``, ``mass_kg``, ...) are met by refining the mapper's coefficients
until the mesh measures the asked values (:mod:`semantify.metric_fit`); ``sliders.json`` records
``"refine": {"iterations": N}`` (0 turns it off; sets without the key refine 3 times).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from semantify.dataset import write_atomic, write_json_atomic
from semantify.errors import SemantifyError
from semantify.mapper import Mapper

FORMAT = "semantify-sliders"
VERSION = 1
SLIDERS_JSON = "sliders.json"
WEIGHTS = "mapper.safetensors"
METRICS_JSON = "metrics.json"
SELECTION_DIR = "selection"
UNITS = {"_cm": "cm", "_kg": "kg", "_m": "m", "_deg": "deg"}
DEFAULT_REFINE = {"iterations": 3}


@dataclasses.dataclass(frozen=True)
class Slider:
    """One slider: a descriptor, its [low, high] range and default, and its unit (or None)."""

    name: str
    low: float
    high: float
    default: float
    unit: str | None = None


def unit_of(descriptor: str) -> str | None:
    """Unit of a metric descriptor from its suffix ('height_cm' -> 'cm'); None for words."""
    for suffix, unit in UNITS.items():
        if descriptor.endswith(suffix):
            return unit
    return None


def sliders_from_values(names: Sequence[str], values: torch.Tensor) -> list[Slider]:
    """Sliders for (N, K) training descriptor values: range [p1, p99], default the median."""
    values = values.to(torch.float64)
    low, median, high = torch.quantile(values, torch.tensor([0.01, 0.5, 0.99], dtype=torch.float64),
                                       dim=0)
    return [Slider(n, float(lo), float(hi), float(m), unit_of(n))
            for n, lo, m, hi in zip(names, low, median, high)]


def clip_dict(clip) -> dict | None:
    """A CLIP spec as its JSON dict (accepts None, a dict, or an object with ``to_dict``)."""
    if clip is None or isinstance(clip, dict):
        return clip
    return clip.to_dict()


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _dataset_pointer(dataset: Path | None, root: Path) -> str | None:
    """Dataset path relative to the slider set folder when both share a parent, else absolute."""
    if dataset is None:
        return None
    dataset, root = Path(dataset).resolve(), Path(root).resolve()
    if dataset.is_relative_to(root.parent):
        return os.path.relpath(dataset, root)
    return str(dataset)


class SliderSet:
    """A trained mapper with its sliders: values (B, K) -> coefficients (B, C) of ``model_id``."""

    def __init__(self, mapper: Mapper, sliders: Sequence[Slider], model: Mapping,
                 template: str | None = None, clip=None, dataset: Path | str | None = None,
                 training: Mapping | None = None, root: Path | None = None,
                 refine: Mapping | None = None):
        self.mapper = mapper.eval()
        self.sliders = list(sliders)
        self.model = dict(model)
        self.template = template
        self.clip = clip_dict(clip)
        self.dataset = None if dataset is None else Path(dataset)
        self.training = dict(training or {})
        self.root = None if root is None else Path(root)
        self.refine = dict(DEFAULT_REFINE if refine is None else refine)
        self._refiner = None

    @property
    def model_id(self) -> str:
        return self.model["id"]

    @property
    def model_options(self) -> dict:
        return dict(self.model.get("options") or {})

    @property
    def descriptors(self) -> list[str]:
        return [s.name for s in self.sliders]

    @property
    def coefficient_names(self) -> list[str]:
        return [c["name"] for c in self.model["coefficients"]]

    @property
    def defaults(self) -> dict[str, float]:
        return {s.name: s.default for s in self.sliders}

    @property
    def metric_descriptors(self) -> list[str]:
        """The descriptors that are body measurements (met by refinement)."""
        from semantify.measure import MEASUREMENTS

        return [name for name in self.descriptors if name in MEASUREMENTS]

    def load_model(self):
        """The morphable model these sliders drive."""
        from semantify.models import load_model

        return load_model(self.model_id, **self.model_options)

    # -- values -> coefficients -------------------------------------------------------------

    def values_tensor(self, values: Mapping[str, float] | torch.Tensor) -> torch.Tensor:
        """A name -> value dict (unset sliders take defaults) or (B, K) values -> (B, K) float32."""
        if isinstance(values, Mapping):
            unknown = [name for name in values if name not in self.defaults]
            if unknown:
                raise SemantifyError(
                    f"unknown slider {unknown[0]!r}; valid sliders: {', '.join(self.descriptors)}.")
            row = [float(values.get(s.name, s.default)) for s in self.sliders]
            values = torch.tensor([row], dtype=torch.float32)
        values = torch.as_tensor(values, dtype=torch.float32)
        if values.ndim == 1:
            values = values[None]
        if values.ndim != 2 or values.shape[1] != len(self.sliders):
            raise SemantifyError(
                f"this slider set takes {len(self.sliders)} values per row "
                f"({', '.join(self.descriptors)}), got shape {tuple(values.shape)}.")
        if not torch.isfinite(values).all():
            raise SemantifyError("slider values contain NaN or inf; pass finite numbers.")
        return values

    def clamp(self, values: torch.Tensor, warn: bool = True) -> torch.Tensor:
        """Clamp (B, K) values into the slider ranges; warn on stderr in one line if any moved."""
        low = torch.tensor([s.low for s in self.sliders], dtype=torch.float32)
        high = torch.tensor([s.high for s in self.sliders], dtype=torch.float32)
        clamped = torch.maximum(torch.minimum(values, high), low)
        outside = (clamped != values).any(0)
        if warn and outside.any():
            parts = [f"{s.name} to [{s.low:.4g}, {s.high:.4g}]"
                     for s, o in zip(self.sliders, outside.tolist()) if o]
            print(f"semantify: warning: slider values outside their range were clamped: "
                  f"{'; '.join(parts)}.", file=sys.stderr)
        return clamped

    def coefficients(self, values: Mapping[str, float] | torch.Tensor,
                     warn: bool = True, refine: bool = True) -> torch.Tensor:
        """Slider values (dict or (B, K)) -> (B, C) float32 coefficients within the model ranges.

        With ``refine`` (and metric sliders), the mapper's output is refined until the mesh
        measures the asked values (within 1 mm / 0.1 kg where the model can reach them).
        """
        values = self.clamp(self.values_tensor(values), warn=warn)
        with torch.no_grad():
            coefficients = self.mapper(values)
        ranges = torch.tensor([[c["low"], c["high"]] for c in self.model["coefficients"]],
                              dtype=torch.float32)
        coefficients = torch.maximum(torch.minimum(coefficients, ranges[:, 1]), ranges[:, 0])
        metric = self.metric_descriptors
        if not (refine and metric and int(self.refine.get("iterations", 0)) > 0):
            return coefficients
        targets = {name: values[:, self.descriptors.index(name)] for name in metric}
        return self.refiner()(coefficients, targets, self._held(values))

    def held_measurements(self, values: Mapping[str, float] | torch.Tensor,
                          warn: bool = False) -> dict[str, torch.Tensor]:
        """{name: (B,)} the reference values of the skeletal lengths no slider asks for (arm
        length, shoulder width, inseam, ...): what they measure on the mapper's body for these
        values with the girth and mass sliders at their defaults. Refinement holds them there
        (within ~2 mm), so the app can show each next to the mesh's own value."""
        if not self.metric_descriptors or not self.refiner().held:
            return {}
        return self._held(self.clamp(self.values_tensor(values), warn=warn))

    def _held(self, values: torch.Tensor) -> dict[str, torch.Tensor] | None:
        from semantify.measurements.registry import MEASUREMENTS

        refiner = self.refiner()
        if not refiner.held:
            return None
        reference = values.clone()
        for i, name in enumerate(self.descriptors):
            if name in MEASUREMENTS and not MEASUREMENTS[name].skeletal:
                reference[:, i] = self.sliders[i].default
        with torch.no_grad():
            coefficients = self.mapper(reference)
        ranges = torch.tensor([[c["low"], c["high"]] for c in self.model["coefficients"]],
                              dtype=torch.float32)
        coefficients = torch.maximum(torch.minimum(coefficients, ranges[:, 1]), ranges[:, 0])
        return refiner.measure_held(coefficients)

    def refiner(self):
        """The :class:`semantify.metric_fit.MeasurementRefiner` of this set (built once)."""
        if self._refiner is None:
            from semantify.measure import Anthropometer
            from semantify.metric_fit import MeasurementRefiner

            model = self.load_model()
            self._refiner = MeasurementRefiner(
                model, Anthropometer.for_model(model), self.metric_descriptors,
                self.refine.get("free"), int(self.refine["iterations"]))
        return self._refiner

    # -- save / load -------------------------------------------------------------------------

    def save(self, root: Path | str, metrics: Mapping | None = None,
             selection: Path | str | None = None) -> Path:
        """Write this slider set into folder ``root`` (created); return ``root``."""
        root = Path(root)
        root.mkdir(parents=True, exist_ok=True)
        tensors = {k: v.detach().cpu().contiguous() for k, v in self.mapper.state_dict().items()}
        write_atomic(root / WEIGHTS, lambda tmp: save_file(tensors, tmp, {"format": FORMAT}))
        mapper = self.mapper
        manifest = {
            "format": FORMAT, "version": VERSION,
            "model": self.model,
            "descriptors": self.descriptors,
            "template": self.template,
            "clip": self.clip,
            "sliders": [dataclasses.asdict(s) for s in self.sliders],
            "inputs": {"mean": mapper.in_mean.tolist(), "std": mapper.in_std.tolist()},
            "outputs": {"mean": mapper.out_mean.tolist(), "std": mapper.out_std.tolist()},
            "mapper": {"hidden": list(mapper.hidden), "file": WEIGHTS,
                       "sha256": _sha256(root / WEIGHTS)},
            "dataset": _dataset_pointer(self.dataset, root),
            "training": self.training,
            "refine": self.refine if self.metric_descriptors else None,
        }
        write_json_atomic(root / SLIDERS_JSON, manifest)
        if metrics is not None:
            write_json_atomic(root / METRICS_JSON, dict(metrics))
        if selection is not None:
            selection = Path(selection)
            if not selection.exists():
                raise SemantifyError(f"selection report {selection} does not exist; pass the "
                                     "folder written by `semantify select`, or drop --selection.")
            target = root / SELECTION_DIR
            shutil.rmtree(target, ignore_errors=True)
            if selection.is_dir():
                shutil.copytree(selection, target)
            else:
                target.mkdir()
                shutil.copy2(selection, target / selection.name)
        self.root = root
        return root

    @classmethod
    def load(cls, root: Path | str, expect_model: str | None = None,
             expect_clip=None) -> SliderSet:
        """Load the slider set at ``root``; refuse a mismatched model/CLIP or damaged files."""
        root = Path(root)
        manifest = _read_manifest(root)
        try:
            mapper = _read_mapper(root, manifest)
            sliders = [Slider(**s) for s in manifest["sliders"]]
            model = manifest["model"]
            if [s.name for s in sliders] != manifest["descriptors"]:
                raise ValueError("sliders and descriptors disagree")
            if len(model["coefficients"]) != mapper.num_outputs:
                raise ValueError("coefficient count and mapper outputs disagree")
        except (KeyError, TypeError, ValueError) as error:
            raise SemantifyError(f"slider set {root} is damaged ({error}); "
                                 "retrain it with `semantify train`.") from None
        if expect_model is not None and model["id"] != expect_model:
            raise SemantifyError(f"slider set {root} drives {model['id']!r}, not {expect_model!r}; "
                                 f"use a slider set trained for {expect_model!r}.")
        expected = clip_dict(expect_clip)
        if expected is not None and not _same_clip(manifest.get("clip"), expected):
            raise SemantifyError(
                f"slider set {root} was trained with CLIP {_clip_name(manifest.get('clip'))}, "
                f"not {_clip_name(expected)}; use a slider set trained with that CLIP.")
        dataset = manifest.get("dataset")
        if dataset is not None and not Path(dataset).is_absolute():
            dataset = os.path.normpath(root / dataset)
        return cls(mapper, sliders, model, manifest.get("template"), manifest.get("clip"),
                   dataset, manifest.get("training"), root, _refine_entry(root, manifest))


def _refine_entry(root: Path, manifest: dict) -> dict | None:
    """The ``refine`` entry of sliders.json: None (absent: the default) or {"iterations": N}."""
    entry = manifest.get("refine")
    if entry is None:
        return None
    iterations = entry.get("iterations") if isinstance(entry, dict) else None
    if not isinstance(iterations, int) or isinstance(iterations, bool) or iterations < 0:
        raise SemantifyError(f"{root / SLIDERS_JSON} has refine {entry!r}; write "
                             '{"iterations": N} with N >= 0 (0 turns refinement off).')
    return entry


def _clip_name(clip: dict | None) -> str:
    if clip is None:
        return "none (metric-only)"
    return "/".join(str(clip.get(k)) for k in ("name", "pretrained", "checkpoint") if clip.get(k))


def _same_clip(a: dict | None, b: dict | None) -> bool:
    keys = ("name", "pretrained", "checkpoint")
    if a is None or b is None:
        return a is b
    return all(a.get(k) == b.get(k) for k in keys)


def _read_manifest(root: Path) -> dict:
    path = root / SLIDERS_JSON
    if not root.is_dir():
        raise SemantifyError(f"slider set {root} does not exist; train one with `semantify train`.")
    for name in (SLIDERS_JSON, WEIGHTS):
        if not (root / name).is_file():
            raise SemantifyError(f"slider set {root} is missing {name}; "
                                 "retrain it with `semantify train` or copy the whole folder.")
    try:
        manifest = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SemantifyError(f"cannot read {path} ({error}); retrain the slider set.") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise SemantifyError(f"{path} is not a {FORMAT} file; pass a folder written by "
                             "`semantify train`.")
    if manifest.get("version") != VERSION:
        raise SemantifyError(f"{path} is {FORMAT} version {manifest.get('version')}, this "
                             f"Semantify reads version {VERSION}; retrain the slider set.")
    return manifest


def _read_mapper(root: Path, manifest: dict) -> Mapper:
    """The mapper in ``mapper.safetensors``, checked against the hash and stats in the JSON."""
    weights = root / WEIGHTS
    if _sha256(weights) != manifest["mapper"]["sha256"]:
        raise SemantifyError(f"{weights} does not match the sha256 in {SLIDERS_JSON} (tampered "
                             "or partly copied); copy the slider set folder again or retrain it.")
    try:
        tensors = load_file(weights)
    except Exception as error:  # safetensors raises several types for a damaged file
        raise SemantifyError(f"{weights} is unreadable ({error}); retrain the slider set."
                             ) from None
    mapper = Mapper(len(manifest["descriptors"]), len(manifest["model"]["coefficients"]),
                    manifest["mapper"]["hidden"])
    expected = mapper.state_dict()
    shapes = {k: tuple(v.shape) for k, v in tensors.items()}
    if shapes != {k: tuple(v.shape) for k, v in expected.items()}:
        raise SemantifyError(f"{weights} holds tensors of the wrong names or shapes for "
                             f"{len(manifest['descriptors'])} sliders and hidden sizes "
                             f"{manifest['mapper']['hidden']}; retrain the slider set.")
    mapper.load_state_dict(tensors)
    for key, prefix in (("inputs", "in"), ("outputs", "out")):
        for stat in ("mean", "std"):
            stored = torch.tensor(manifest[key][stat], dtype=torch.float32)
            if not torch.equal(stored, getattr(mapper, f"{prefix}_{stat}")):
                raise SemantifyError(f"{SLIDERS_JSON} {key} {stat} disagree with {weights}; "
                                     "retrain the slider set.")
    return mapper.eval()
