"""Which model, with which options: the one record that names a model everywhere.

Dataset manifests, ``sliders.json`` and params files all hold ``{"id": ..., "options": {...}}``
and read it back through :meth:`ModelRef.from_dict`, which checks the types before anything is
built. Options are checked against the model's builder (names and JSON scalar types), so a
wrong option is one line, never a ``TypeError`` from deep inside a model.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Mapping
from typing import Any

from semantify.errors import SemantifyError

MAX_ID_CHARS = 512
SCALARS = (str, int, float, bool)


@dataclasses.dataclass(frozen=True)
class ModelRef:
    """A model ``id`` (see ``semantify models``) and its builder ``options``, sorted by name."""

    id: str
    options: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(cls, model_id: str, **options) -> ModelRef:
        return cls(model_id, tuple(sorted(options.items())))

    @property
    def options_dict(self) -> dict[str, Any]:
        return dict(self.options)

    def to_dict(self) -> dict:
        return {"id": self.id, "options": self.options_dict}

    @classmethod
    def from_dict(cls, record, source: str = "the file") -> ModelRef:
        """The ref in a ``{"id": str, "options": {name: scalar}}`` record (a bare id string is
        accepted too, as older app params wrote it), or a one-line error naming ``source``."""
        if isinstance(record, str):
            record = {"id": record}
        if not isinstance(record, Mapping):
            raise SemantifyError(f"{source}: 'model' must be an object like "
                                 '{"id": "anny-body", "options": {}}.')
        model_id, options = record.get("id"), record.get("options") or {}
        if not isinstance(model_id, str) or not model_id or len(model_id) > MAX_ID_CHARS:
            raise SemantifyError(f"{source}: 'model.id' must be a model id such as "
                                 "'anny-body' (see `semantify models`).")
        if not isinstance(options, Mapping) or not all(
                isinstance(k, str) and isinstance(v, SCALARS) for k, v in options.items()):
            raise SemantifyError(f"{source}: 'model.options' must map option names to "
                                 'numbers or strings, e.g. {"num_betas": 10}.')
        return cls(model_id, tuple(sorted(options.items())))

    def check(self) -> ModelRef:
        """Refuse an unknown id, or options the model's builder does not take, in one line."""
        from semantify.models.registry import spec

        model_spec = spec(self.id)
        parameters = inspect.signature(model_spec.builder_function()).parameters
        fixed = set(model_spec.options)
        valid = [name for name in parameters if name not in fixed]
        for name, value in self.options:
            if name not in valid:
                choices = ", ".join(valid) or "none"
                raise SemantifyError(f"model {self.id} has no option {name!r}; its options: "
                                     f"{choices}.")
            default = parameters[name].default
            if default is not inspect.Parameter.empty and default is not None and not \
                    _same_kind(value, default):
                raise SemantifyError(f"model {self.id} option {name!r} must be of type "
                                     f"{type(default).__name__} (like {default!r}), got {value!r}.")
        return self

    def load(self):
        """The :class:`~semantify.models.base.MorphableModel` (built once per process)."""
        from semantify.models.registry import load_model

        return load_model(self.check().id, **self.options_dict)

    @property
    def label(self) -> str:
        """``id`` with its options, e.g. ``smplx-male (num_betas=16)``."""
        if not self.options:
            return self.id
        return f"{self.id} ({', '.join(f'{k}={v}' for k, v in self.options)})"


def _same_kind(value, default) -> bool:
    """Whether ``value`` has the type of ``default`` (an int passes for a float, a bool never
    for a number)."""
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    return isinstance(value, type(default))
