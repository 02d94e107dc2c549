"""Light rig: three-point studio lights plus a sky/ground ambient term (the surface itself is a
:class:`viewer.material.Material`)."""

from __future__ import annotations

import dataclasses

import numpy as np

Color = tuple[float, float, float]


def _unit(*vector: float) -> Color:
    array = np.asarray(vector, dtype=np.float64)
    return tuple(float(x) for x in array / np.linalg.norm(array))


def srgb_to_linear(color) -> Color:
    """Display colour in [0, 1] -> linear RGB (the shaders light in linear space)."""
    return tuple(float(c) ** 2.2 for c in color)


@dataclasses.dataclass(frozen=True)
class Lighting:
    """Directions point towards the light, in camera space (x right, y up, z to the viewer),
    so every view is lit alike. Colours are linear RGB intensities."""

    key_direction: Color = _unit(-0.6, 0.65, 0.6)
    key_color: Color = (1.75, 1.42, 1.1)
    fill_direction: Color = _unit(0.8, 0.0, 0.55)
    fill_color: Color = (0.12, 0.16, 0.26)
    rim_direction: Color = _unit(0.5, 0.55, -0.7)
    rim_color: Color = (0.5, 0.56, 0.68)
    sky_color: Color = (0.13, 0.15, 0.2)
    ground_color: Color = (0.07, 0.06, 0.05)

    def uniforms(self) -> dict:
        """Uniform values for ``lighting.glsl`` (and the batch shader)."""
        return dataclasses.asdict(self)
