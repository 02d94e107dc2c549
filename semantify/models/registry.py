"""Every model id, how to build it, and whether it can be built on this machine."""

from __future__ import annotations

import dataclasses
import functools
import importlib
from collections.abc import Callable
from pathlib import Path

from semantify.errors import SemantifyError
from semantify.models.base import MorphableModel


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """A registered model: ``builder`` is "module:function", called with the options."""

    id: str
    name: str
    family: str
    builder: str
    options: dict = dataclasses.field(default_factory=dict)
    # Licensed file this model needs, relative to SEMANTIFY_MODELS_DIR (None: ships with us).
    licensed_file: Callable[[], Path] | None = None

    def missing_file(self) -> Path | None:
        """The licensed file this model needs and this machine lacks (None: nothing missing).
        The one place that asks whether a model's file is here; no model is loaded."""
        if self.licensed_file is None or self.licensed_file().is_file():
            return None
        return self.licensed_file()

    def builder_function(self) -> Callable[..., MorphableModel]:
        module, function = self.builder.split(":")
        return getattr(importlib.import_module(module), function)

    def build(self, **options) -> MorphableModel:
        return self.builder_function()(**{**self.options, **options})


def _licensed(kind: str, *args) -> Callable[[], Path]:
    def path() -> Path:
        from semantify.models import model_files

        return model_files.expected_path(kind, *args)

    return path


def _specs() -> list[ModelSpec]:
    anny = "semantify.models.anny_models"
    smplx = "semantify.models.smplx_models"
    specs = [
        ModelSpec("anny-body", "Anny body", "body", f"{anny}:anny_body"),
        ModelSpec("anny-face-expression", "Anny face expression", "expression",
                  f"{anny}:anny_face_expression"),
        ModelSpec("anny-face-shape", "Anny face shape", "face", f"{anny}:anny_face_shape"),
    ]
    for kind, label in (("smpl", "SMPL"), ("smplx", "SMPL-X")):
        for gender in ("neutral", "male", "female"):
            specs.append(ModelSpec(
                f"{kind}-{gender}", f"{label} {gender}", "body", f"{smplx}:{kind}",
                {"gender": gender}, _licensed(kind, gender)))
    for part, family in (("shape", "face"), ("expression", "expression"), ("", "face")):
        model_id = f"flame-{part}" if part else "flame"
        specs.append(ModelSpec(
            model_id, f"FLAME {part or 'shape + expression'}", family, f"{smplx}:flame",
            {"part": part or "both"}, _licensed("flame", "neutral")))
    specs.append(ModelSpec("smal", "SMAL animals", "animal", f"{smplx}:smal", {},
                           _licensed("smal", "neutral")))
    return specs


SPECS: dict[str, ModelSpec] = {spec.id: spec for spec in _specs()}
LINEAR_PREFIX = "linear:"


def model_ids() -> list[str]:
    """All registered ids (``linear:PATH.npz`` is accepted too)."""
    return list(SPECS)


def spec(model_id: str) -> ModelSpec:
    """The spec of ``model_id``, or a one-line error listing the valid ids."""
    if model_id.startswith(LINEAR_PREFIX):
        path = model_id[len(LINEAR_PREFIX):]
        return ModelSpec(model_id, f"Linear model {Path(path).name}", "generic",
                         "semantify.models.linear:linear_model", {"path": path})
    if model_id not in SPECS:
        raise SemantifyError(
            f"unknown model {model_id!r}; available: {', '.join(SPECS)}, or linear:PATH.npz."
        )
    return SPECS[model_id]


@functools.lru_cache(maxsize=16)
def _load(model_id: str, options: tuple, source: str) -> MorphableModel:
    return spec(model_id).build(**dict(options))


def load_model(model_id: str, **options) -> MorphableModel:
    """Build (once per process, option set and licensed file path) the model ``model_id``."""
    licensed_file = spec(model_id).licensed_file
    source = str(licensed_file()) if licensed_file is not None else ""
    return _load(model_id, tuple(sorted(options.items())), source)


@dataclasses.dataclass(frozen=True)
class ModelStatus:
    """A row of ``semantify models``."""

    id: str
    name: str
    available: bool
    num_coefficients: int | None = None
    num_vertices: int | None = None
    missing: str = ""


def model_status(model_id: str) -> ModelStatus:
    """Whether ``model_id`` can be built here; if not, which file is missing and where."""
    model_spec = spec(model_id)
    missing = model_spec.missing_file()
    if missing is not None:
        from semantify.models import model_files

        return ModelStatus(model_id, model_spec.name, False,
                           missing=model_files.missing_hint(missing))
    try:
        model = load_model(model_id)
    except SemantifyError as error:
        return ModelStatus(model_id, model_spec.name, False, missing=str(error))
    return ModelStatus(model_id, model_spec.name, True, model.num_coefficients,
                       model.num_vertices)
