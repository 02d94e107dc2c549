"""Sliders as shape keys (glTF morph targets): one per slider, named by its word or
measurement, holding the vertex offset of moving that slider alone to its high end.

The mapper (and metric refinement) is not linear, so a blend of keys is not exactly the shape
those slider values give: the keys record how far it strays, measured on every pair of the
first sliders (for raw anny-body: its phenotypes), both keys at weight 1 (a blend's largest error
is at the box's far corners). For raw coefficients of a linear model (SMPL, SMPL-X, FLAME
betas) the blend is exact.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np

from semantify.errors import SemantifyError

MAX_PAIRS = 21  # pairs of keys checked for the blend error: every pair of the first 7 sliders


@dataclasses.dataclass(frozen=True)
class ShapeKeys:
    """K keys: slider ``names``, the exported shape's slider ``values`` and each slider's
    ``highs``; ``offsets`` (K, V, 3) float32 metres; ``blend_error_mm`` (mean, max) over
    ``pairs`` pairs of keys at weight 1."""

    names: tuple[str, ...]
    values: tuple[float, ...]
    highs: tuple[float, ...]
    offsets: np.ndarray
    blend_error_mm: tuple[float, float]
    pairs: int

    def __post_init__(self):
        count = len(self.names)
        if not count or len(self.values) != count or len(self.highs) != count \
                or self.offsets.ndim != 3 or self.offsets.shape[0] != count:
            raise SemantifyError(f"shape keys need a value, a high end and (V, 3) offsets per "
                                 f"slider; got {count} names, {len(self.values)} values, "
                                 f"offsets {self.offsets.shape}.")

    def extras(self) -> dict:
        """The glTF mesh ``extras``: the key names (``targetNames``, which Blender, three.js
        and engines read) and what a weight means."""
        mean, largest = self.blend_error_mm
        return {"targetNames": list(self.names),
                "semantify": {
                    "sliders": dict(zip(self.names, self.values)),
                    "high": dict(zip(self.names, self.highs)),
                    "weight": "a key at weight w moves its slider to value + w * (high - value)",
                    "blend_error_mm": {"mean": round(mean, 3), "max": round(largest, 3),
                                       "over": f"{self.pairs} pairs of keys at weight 1"}}}

    def summary(self) -> str:
        """One line for the CLI: how many keys, and how far a blend of two strays."""
        if not self.pairs:
            return "1 shape key (alone at weight 1 it is exactly the slider's high end)"
        mean, largest = self.blend_error_mm
        return (f"{len(self.names)} shape keys; a blend of two strays {mean:.2f} mm on "
                f"average, {largest:.2f} mm at most, from the true shape "
                f"({self.pairs} pairs checked)")


def shape_keys_of(shape, vertices_of) -> ShapeKeys:
    """The :class:`ShapeKeys` of ``shape`` (a :class:`semantify.sets.sliders.Shape`), with
    ``vertices_of`` turning (B, C) coefficients into the (B, V, 3) vertices exported for them
    (pose and placement applied)."""
    import torch

    sliders = shape.slider_set
    count = len(sliders.sliders)
    values = torch.tensor(shape.values, dtype=torch.float64)
    highs = torch.tensor([s.high for s in sliders.sliders], dtype=torch.float64)
    checked = max(k for k in range(1, count + 1) if k * (k - 1) // 2 <= MAX_PAIRS)
    pairs = list(itertools.combinations(range(checked), 2))
    rows = values.repeat(count + len(pairs), 1)
    for row, moved in enumerate([(k,) for k in range(count)] + pairs):
        rows[row, list(moved)] = highs[list(moved)]
    coefficients = torch.cat([shape.coefficients[None].float(), sliders.coefficients(rows)])
    with torch.no_grad():
        vertices = np.asarray(vertices_of(coefficients), dtype=np.float64)
    base, keys, together = vertices[0], vertices[1:count + 1] - vertices[0], vertices[count + 1:]
    error = np.zeros(1)
    if pairs:
        first, second = (np.array(side) for side in zip(*pairs))
        blend = base + keys[first] + keys[second]
        error = np.linalg.norm(blend - together, axis=-1) * 1000
    return ShapeKeys(tuple(sliders.names), tuple(float(v) for v in values),
                     tuple(float(h) for h in highs), keys.astype(np.float32),
                     (float(error.mean()), float(error.max())), len(pairs))
