"""The params file: what reproduces a result (model, slider values, coefficients), versioned.

One format, written by ``semantify shape/fit/text --params`` and the app's export, and read by
``shape --params-in``, ``measure``, ``render --coeffs`` and the app's "Load params"::

    {"format": "semantify-params", "version": 2,
     "model": {"id": "anny-body", "options": {}},
     "slider_set": "anny-body-metric",          # the set's name, or null for raw coefficients
     "sliders": {"height_cm": 180.0, ...},
     "set": ["height_cm", ...],                 # the sliders that were set; the others were
                                                # free (followed the body); absent: all set
     "coefficients": {"gender": 0.5, ...},
     "pose": null}

Older files still load: version 1 as ``semantify shape --params`` wrote it (``slider_set`` a
path), and the app's unversioned export (``model`` a bare id). A slider set is named, never
opened, from a params file: the name only helps pick the right set.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from pathlib import Path

import torch

from semantify import limits
from semantify.errors import SemantifyError
from semantify.files import read_json, write_json_atomic
from semantify.models.reference import ModelRef

FORMAT = "semantify-params"
VERSION = 2
FIX = "pass a params.json written by Semantify (the app's export, or `semantify shape --params`)"


@dataclasses.dataclass(frozen=True)
class Params:
    """A result's model, slider values and coefficients (name -> value, in model order);
    ``set_names``: the sliders that were set (None: all of them)."""

    model: ModelRef
    coefficients: tuple[tuple[str, float], ...] = ()
    sliders: tuple[tuple[str, float], ...] = ()
    slider_set: str | None = None
    pose: str | None = None
    set_names: tuple[str, ...] | None = None

    def __post_init__(self):
        if self.set_names is not None:
            unknown = [n for n in self.set_names if n not in self.slider_values]
            if unknown:
                raise SemantifyError(f"params 'set' names slider {unknown[0][:60]!r}, which has "
                                     f"no value; {FIX}.")

    @property
    def slider_values(self) -> dict[str, float]:
        return dict(self.sliders)

    @property
    def set_values(self) -> dict[str, float]:
        """{name: value} of the sliders that were set (all, for files without ``set``)."""
        names = self.slider_values if self.set_names is None else self.set_names
        return {n: self.slider_values[n] for n in names}

    @property
    def coefficient_values(self) -> dict[str, float]:
        return dict(self.coefficients)

    def to_dict(self) -> dict:
        record = {"format": FORMAT, "version": VERSION, "model": self.model.to_dict(),
                  "slider_set": self.slider_set, "sliders": self.slider_values,
                  "coefficients": self.coefficient_values, "pose": self.pose}
        if self.set_names is not None:
            record["set"] = list(self.set_names)
        return record

    def write(self, path: Path | str) -> Path:
        write_json_atomic(path, self.to_dict())
        return Path(path)

    @classmethod
    def read(cls, path: Path | str, name: str | None = None, fix: str = FIX) -> Params:
        """The params in ``path`` (any supported version); errors name the file as ``name``
        and end with ``fix``."""
        shown = name or str(path)
        return cls.from_dict(read_json(path, f"params file {shown}", fix), shown, fix)

    @classmethod
    def from_dict(cls, record, source: str = "params", fix: str = FIX) -> Params:
        """Validate and upgrade a params record; one-line errors name ``source``."""
        if not isinstance(record, Mapping):
            raise SemantifyError(f"{source} holds no JSON object; {fix}.")
        fmt, version = record.get("format"), record.get("version")
        if fmt is not None and fmt != FORMAT:
            raise SemantifyError(f"{source} is a {str(fmt)[:40]!r} file, not params; {fix}.")
        if fmt is not None and version not in (1, VERSION):
            if isinstance(version, int) and version > VERSION:
                raise SemantifyError(f"{source} is params version {version}, newer than this "
                                     f"Semantify reads ({VERSION}); update Semantify.")
            raise SemantifyError(f"{source} has an unknown params version {version!r}; {fix}.")
        if record.get("model") is None:
            raise SemantifyError(f"{source} names no model; {fix}.")
        model = ModelRef.from_dict(record["model"], source)
        sliders = _values(record.get("sliders"), "sliders", source, fix)
        coefficients = _values(record.get("coefficients"), "coefficients", source, fix)
        if not sliders and not coefficients:
            raise SemantifyError(f"{source} holds neither slider values nor coefficients; "
                                 f"{fix}.")
        slider_set = record.get("slider_set")
        if slider_set is not None:
            if not isinstance(slider_set, str):
                raise SemantifyError(f"{source}: 'slider_set' must be a name or null; {fix}.")
            slider_set = set_name(slider_set)
        pose = record.get("pose")
        if pose is not None and (not isinstance(pose, str) or len(pose) > limits.MAX_NAME_CHARS):
            raise SemantifyError(f"{source}: 'pose' must be a pose name or null; {fix}.")
        set_names = record.get("set")
        if set_names is not None:
            if not isinstance(set_names, list) or len(set_names) > len(sliders) or not all(
                    isinstance(n, str) and n in dict(sliders) for n in set_names):
                raise SemantifyError(f"{source}: 'set' must list names of its sliders; {fix}.")
            set_names = tuple(set_names)
        return cls(model, coefficients, sliders, slider_set, pose, set_names)

    def coefficients_for(self, model, source: str = "params") -> torch.Tensor:
        """(C,) float32: ``model``'s defaults overridden by these coefficients, or an error
        (see :meth:`check`)."""
        self.check(model, source)
        if not self.coefficients:
            raise SemantifyError(f"{source} holds slider values but no coefficients; pass it to "
                                 "`semantify shape SLIDERS --params-in` instead.")
        names = model.coefficient_names
        coefficients = model.default_coefficients()
        for name, value in self.coefficients:
            coefficients[names.index(name)] = value
        return coefficients


    def check(self, model, source: str = "params"):
        """The :class:`semantify.poses.Pose` these params show ``model`` in (rest when they name
        none), or a one-line error: params of another model, a coefficient ``model`` lacks or
        outside its range (nothing is clamped silently), or a pose it cannot take."""
        from semantify.poses import pose_names, resolve_pose

        if self.model.id != model.id:
            raise SemantifyError(f"{source} is for model {self.model.id!r}, not {model.id!r}; "
                                 f"use params of {model.id} or pass --model {self.model.id}.")
        known = {c.name: c for c in model.coefficients}
        for name, value in self.coefficients:
            c = known.get(name)
            if c is None:
                names = model.coefficient_names
                raise SemantifyError(
                    f"{model.id} has no coefficient {name!r} (in {source}); valid names: "
                    f"{', '.join(names[:8])}{', ...' if len(names) > 8 else ''}.")
            slack = 1e-6 * (c.high - c.low)  # float32 values written as decimals
            if not c.low - slack <= value <= c.high + slack:
                raise SemantifyError(f"{source}: coefficient {name!r} is {value:g}, outside "
                                     f"{model.id}'s range {c.low:g} to {c.high:g}; write a "
                                     "value inside it.")
        pose, usable = self.pose or "rest", pose_names(model)
        if pose not in usable:  # a name only: a path in a params file is never opened
            raise SemantifyError(f"{source}: {model.id} has no pose {str(pose)[:40]!r}; valid "
                                 f"poses: {', '.join(usable)} (or null for rest).")
        return resolve_pose(model, pose)


def set_name(text: str) -> str:
    """The name a slider set goes by: an ``hf://`` id as is, a folder by its last part."""
    text = text.strip()[: limits.MAX_NAME_CHARS * 2]
    if text.startswith("hf://"):
        return text
    return Path(text.rstrip("/\\")).name[: limits.MAX_NAME_CHARS]


def _values(mapping, key: str, source: str, fix: str) -> tuple[tuple[str, float], ...]:
    """A {name: finite number} map as (name, float) pairs, or a one-line error."""
    if mapping is None:
        return ()
    if not isinstance(mapping, Mapping):
        raise SemantifyError(f"{source}: '{key}' must map names to numbers; {fix}.")
    if len(mapping) > limits.MAX_COEFFICIENTS:
        raise SemantifyError(f"{source}: '{key}' has {len(mapping)} entries, more than "
                             f"{limits.MAX_COEFFICIENTS}; {fix}.")
    pairs = []
    for name, value in mapping.items():
        if not isinstance(name, str) or not name or len(name) > limits.MAX_NAME_CHARS:
            raise SemantifyError(f"{source}: '{key}' has a name that is empty or longer than "
                                 f"{limits.MAX_NAME_CHARS} characters; {fix}.")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SemantifyError(f"{source}: {key} value {name[:40]!r} is not a number; {fix}.")
        if not math.isfinite(value) or abs(value) > limits.MAX_ABS_VALUE:
            raise SemantifyError(f"{source}: {key} value {name[:40]!r} is not a finite number "
                                 f"below {limits.MAX_ABS_VALUE:g}; {fix}.")
        pairs.append((name, float(value)))
    return tuple(pairs)
