"""Body landmarks per mesh topology, stored as data in ``landmarks/*.json``.

A file names the model ids it serves (``fnmatch`` patterns), their vertex count, and vertex
indices: a girth is either a plane section (``level``: vertices whose mean height is the plane
height; ``axis``: vertices whose mean (x, z) is a point inside the torso at that height) or a
closed vertex ``loop`` on the skin; ``crotch`` vertices give the crotch height; ``shoulders``
holds the left and right shoulder points; ``arms`` two chains shoulder -> (elbow ->) wrist.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
import json
from pathlib import Path

LANDMARK_DIR = Path(__file__).with_name("landmarks")


@dataclasses.dataclass(frozen=True)
class Girth:
    """A circumference: a plane section (``level`` and ``axis``) or a skin ``loop``."""

    level: tuple[int, ...] = ()
    axis: tuple[int, ...] = ()
    loop: tuple[int, ...] = ()


@dataclasses.dataclass(frozen=True)
class Landmarks:
    """Vertex indices of the body landmarks of one topology."""

    topology: str
    models: tuple[str, ...]
    num_vertices: int
    chest: Girth
    waist: Girth
    hips: Girth
    crotch: tuple[int, ...]
    shoulders: tuple[int, int]
    arms: tuple[tuple[int, ...], ...]
    source: str = ""

    @classmethod
    def from_dict(cls, data: dict) -> Landmarks:
        girths = {name: Girth(**{k: tuple(v) for k, v in data[name].items()})
                  for name in ("chest", "waist", "hips")}
        return cls(topology=data["topology"], models=tuple(data["models"]),
                   num_vertices=int(data["num_vertices"]), crotch=tuple(data["crotch"]),
                   shoulders=tuple(data["shoulders"]),
                   arms=tuple(tuple(arm) for arm in data["arms"]),
                   source=data.get("source", ""), **girths)

    def serves(self, model) -> bool:
        """Whether these landmarks fit ``model`` (a body model of this id and vertex count)."""
        return (model.family == "body" and model.num_vertices == self.num_vertices
                and any(fnmatch.fnmatchcase(model.id, pattern) for pattern in self.models))


@functools.cache
def all_landmarks() -> tuple[Landmarks, ...]:
    """Every stored topology's landmarks."""
    return tuple(Landmarks.from_dict(json.loads(path.read_text()))
                 for path in sorted(LANDMARK_DIR.glob("*.json")))


def landmarks_for(model) -> Landmarks | None:
    """The landmarks of ``model``'s topology, or None if it has none (faces, animals, ...)."""
    return next((marks for marks in all_landmarks() if marks.serves(model)), None)


def supported_models() -> list[str]:
    """Model id patterns that have landmarks: ['anny-body', 'smpl-*', 'smplx-*']."""
    return [pattern for marks in all_landmarks() for pattern in marks.models]
