"""Sliders of a picker entry: descriptors of a slider set, or a model's raw coefficients.

The page holds a fixed pool of slider widgets (``MAIN_SLOTS`` always shown, ``EXTRA_SLOTS`` in
a collapsed accordion); a :class:`Panel` says which control sits in which slot.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch

from semantify.app import resources
from semantify.app.catalog import Entry

MAIN_SLOTS = 24
EXTRA_SLOTS = 120


@dataclasses.dataclass(frozen=True)
class Control:
    """One slider: a descriptor or a coefficient, with its range, default and unit."""

    name: str
    low: float
    high: float
    default: float
    unit: str = ""

    @classmethod
    def readable(cls, name: str, low: float, high: float, default: float, unit: str = ""):
        """A control whose range and default are rounded to the precision of its step
        (data percentiles such as 121.23221061706543 cm show as 121.2)."""
        decimals = max(0, -math.floor(math.log10(max(high - low, 1e-9) / 200.0)))
        scale = 10.0 ** decimals
        low, high = math.floor(low * scale) / scale, math.ceil(high * scale) / scale
        return cls(name, low, high, min(max(round(default, decimals), low), high), unit)

    @property
    def label(self) -> str:
        return f"{self.name} ({self.unit})" if self.unit else self.name

    @property
    def step(self) -> float:
        return (self.high - self.low) / 200.0


@dataclasses.dataclass(frozen=True)
class Panel:
    """The controls of an entry; the first ``n_main`` go to the main slots, the rest to extras."""

    entry: Entry
    controls: tuple[Control, ...]
    n_main: int
    hidden: int = 0  # raw coefficients beyond the slots (kept at their default)

    @property
    def slots(self) -> list[int]:
        """Pool slot of each control (main slots first, then the accordion's)."""
        return [k if k < self.n_main else MAIN_SLOTS + k - self.n_main
                for k in range(len(self.controls))]

    @property
    def defaults(self) -> list[float]:
        return [c.default for c in self.controls]

    def clip_values(self, values) -> list[float]:
        """``values`` (K,) clamped into each control's range (NaN -> default)."""
        out = []
        for control, value in zip(self.controls, values):
            value = float(value)
            value = control.default if not np.isfinite(value) else value
            out.append(min(max(value, control.low), control.high))
        return out

    def coefficients(self, values) -> torch.Tensor:
        """(C,) float32 model coefficients behind slider ``values`` (K,)."""
        if self.entry.sliders is None:
            model = resources.model(self.entry.model_id)
            full = model.default_coefficients().clone()
            full[: len(values)] = torch.as_tensor(values, dtype=torch.float32)
            return full
        sliders = resources.slider_set(self.entry.sliders)
        row = torch.as_tensor([values], dtype=torch.float32)
        return sliders.coefficients(row, warn=False)[0].to(torch.float32)


def panel_for(entry: Entry) -> Panel:
    """The panel of ``entry``: its slider set's sliders, or the model's own coefficients."""
    if entry.sliders is not None:
        sliders = resources.slider_set(entry.sliders).sliders[:MAIN_SLOTS]
        controls = tuple(Control.readable(s.name, float(s.low), float(s.high),
                                          float(s.default), s.unit or "") for s in sliders)
        return Panel(entry, controls, len(controls))
    model = resources.model(entry.model_id)
    coefficients = model.coefficients
    n_main = len(model.featured_indices)  # featured coefficients lead (Anny's phenotypes)
    shown = coefficients[: n_main + EXTRA_SLOTS]
    controls = tuple(Control(c.name, float(c.low), float(c.high), float(c.default))
                     for c in shown)
    return Panel(entry, controls, n_main, len(coefficients) - len(shown))
