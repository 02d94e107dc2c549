"""Checks on user colours."""

from __future__ import annotations

import numpy as np

from viewer.errors import ViewerError

Color = tuple[float, float, float]


def check_color(color, what: str = "background") -> Color:
    """An RGB triple of floats in [0, 1], or a ViewerError."""
    array = np.asarray(color, dtype=np.float64) if _is_numeric(color) else None
    if array is None or array.shape != (3,) or not np.all((array >= 0) & (array <= 1)):
        raise ViewerError(f"{what} must be 3 RGB floats in [0, 1] like (0.2, 0.2, 0.25), "
                          f"got {color!r}.")
    return tuple(float(x) for x in array)


def check_gradient(background, what: str = "background") -> tuple[Color, Color]:
    """One colour or a (top, bottom) pair of colours -> (top, bottom)."""
    if _is_numeric(background) and np.ndim(background) == 1:
        color = check_color(background, what)
        return color, color
    if _is_numeric(background) and np.shape(background) == (2, 3):
        top, bottom = background
        return check_color(top, what), check_color(bottom, what)
    raise ViewerError(f"{what} must be an RGB colour or a (top, bottom) pair of them, with "
                      f"floats in [0, 1], got {background!r}.")


def _is_numeric(value) -> bool:
    try:
        return np.asarray(value, dtype=np.float64).size > 0
    except (TypeError, ValueError):
        return False
