"""Per-user state, kept in a ``gr.State``: nothing here is shared between sessions."""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass
class Session:
    """What one user is looking at.

    ``key`` names the picker entry, ``values`` (K,) the slider values,
    ``coefficients`` (C,) the model coefficients behind them, ``vertices`` (V, 3) the
    current mesh and ``displacement`` (V,) how far each vertex moved in the last change.
    """

    key: str = ""
    values: list[float] = dataclasses.field(default_factory=list)
    azimuth: float = 0.0
    elevation: float = 10.0
    zoom: float = 1.0
    heatmap: bool = False
    show_coefficients: bool = False
    coefficients: list[float] = dataclasses.field(default_factory=list)
    vertices: np.ndarray | None = None
    displacement: np.ndarray | None = None
