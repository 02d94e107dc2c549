"""Colour vertices by how far the last change moved them."""

from __future__ import annotations

import functools

import numpy as np

COLORMAP = "YlOrRd"  # pale where nothing moved, red where most moved


@functools.cache
def _lut() -> np.ndarray:
    """(256, 3) float32 colormap table."""
    import matplotlib

    return matplotlib.colormaps[COLORMAP](np.linspace(0.0, 1.0, 256))[:, :3].astype(np.float32)


def displacement(before: np.ndarray | None, after: np.ndarray) -> np.ndarray:
    """(V,) float32 distance each vertex moved from ``before`` (V, 3) to ``after`` (V, 3)."""
    if before is None or before.shape != after.shape:
        return np.zeros(len(after), np.float32)
    return np.linalg.norm(after - before, axis=1).astype(np.float32)


def colors(distance: np.ndarray) -> np.ndarray:
    """(V,) distances -> (V, 3) float32 RGB in [0, 1], scaled to the largest move."""
    peak = float(distance.max()) if distance.size else 0.0
    scaled = distance / peak if peak > 0 else np.zeros_like(distance)
    return _lut()[np.clip((scaled * 255).astype(np.int64), 0, 255)]


def colour_key(peak: float, stops: int = 9) -> str:
    """HTML colour key of :func:`colors`: the colour ramp from 0 to ``peak`` metres (in mm)."""
    lut = _lut()[np.linspace(0, 255, stops).astype(int)]
    ramp = ", ".join(f"rgb({r * 255:.0f},{g * 255:.0f},{b * 255:.0f})" for r, g, b in lut)
    return ('<div class="heat-key" style="display:flex;align-items:center;gap:8px;'
            'font-size:13px"><span>0 mm</span><span style="flex:1;height:12px;border-radius:6px;'
            f'background:linear-gradient(to right, {ramp})"></span>'
            f"<span>{peak * 1000:.0f} mm moved</span></div>")
