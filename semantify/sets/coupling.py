"""How measurement sliders bound each other: the range of each given the others.

A 148 cm waist is human on a 150 kg body and not on a 78 kg one. Each measurement slider's
range is therefore narrowed to what the training bodies show for the other sliders' values: a
linear fit of the slider on the others, plus the band of the fit's residuals (their p1..p99,
widened ``SLACK`` times, then shrunk by :func:`calibrated` to where refinement reaches every
asked value), within the slider's own range. Inside its band an asked value is a body people
have, which metric refinement meets while holding the lengths nobody asked for. Values are
never clamped to a band (sliders stay independent); the app's table shows each measurement's
band beside the value asked, so a request beyond it reads as such. For such a request the
mapper, trained on people, is asked the nearest combination people have
(:meth:`Coupling.project`), and refinement aims from that body at the values asked.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import torch

QUANTILES = (0.01, 0.99)
# The residuals' p1..p99 widened by this factor: refinement meets asked values (holding the
# unasked lengths) well beyond the training bodies' own spread (bench/metric_crosstalk.py).
SLACK = 2.0


@dataclasses.dataclass(frozen=True)
class Coupling:
    """For measurement sliders ``names``: slider i ~ ``intercept[i] + weights[i] @ values``
    (``weights[i][i]`` is 0), with residuals between ``low[i]`` and ``high[i]``."""

    names: tuple[str, ...]
    intercept: tuple[float, ...]
    weights: tuple[tuple[float, ...], ...]
    low: tuple[float, ...]
    high: tuple[float, ...]

    @classmethod
    def fit(cls, names: Sequence[str], values: torch.Tensor, slack: float = SLACK) -> Coupling:
        """The coupling of (N, M) training values of the measurement sliders ``names``, its
        residual band widened ``slack`` times about the fit."""
        x = np.asarray(values, dtype=np.float64)
        n, m = x.shape
        intercept, weights, low, high = [], [], [], []
        for i in range(m):
            others = [j for j in range(m) if j != i]
            design = np.column_stack([np.ones(n), x[:, others]])
            solution, *_ = np.linalg.lstsq(design, x[:, i], rcond=None)
            residual = x[:, i] - design @ solution
            row = np.zeros(m)
            row[others] = solution[1:]
            lo, hi = np.quantile(residual, QUANTILES)
            intercept.append(float(solution[0]))
            weights.append(tuple(float(w) for w in row))
            low.append(float(lo) * slack)
            high.append(float(hi) * slack)
        return cls(tuple(names), tuple(intercept), tuple(weights), tuple(low), tuple(high))

    def bands(self, values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, M) values of the coupled sliders -> (B, M) low and high of each one's band given
        the others."""
        values = torch.as_tensor(values, dtype=torch.float64)
        weights = torch.tensor(self.weights, dtype=torch.float64)
        centre = torch.tensor(self.intercept, dtype=torch.float64) + values @ weights.T
        return (centre + torch.tensor(self.low, dtype=torch.float64),
                centre + torch.tensor(self.high, dtype=torch.float64))

    def limits(self, values: torch.Tensor, low: torch.Tensor,
               high: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, M) values -> each one's band given the others, within the sliders' own (M,)
        ``low``..``high``: (band low, band high)."""
        band_low, band_high = self.bands(values)
        band_low = torch.minimum(torch.maximum(band_low, low), high)
        return band_low, torch.maximum(torch.minimum(band_high, high), band_low)

    def project(self, values: torch.Tensor, scale: torch.Tensor,
                cycles: int = 30) -> torch.Tensor:
        """(B, M) values -> the nearest values (distance in units of ``scale``, (M,)) inside
        every band at once: a combination people have. Values already inside are returned
        as they are. Dykstra's alternating projections onto the 2M half-spaces."""
        x = torch.as_tensor(values, dtype=torch.float64)
        scale = torch.as_tensor(scale, dtype=torch.float64).clamp_min(1e-9)
        m = x.shape[1]
        rows = torch.eye(m, dtype=torch.float64) - torch.tensor(self.weights, dtype=torch.float64)
        rows = rows * scale  # constraint i on y = x / scale: lo_i <= rows[i] @ y - c_i <= hi_i
        intercept = torch.tensor(self.intercept, dtype=torch.float64)
        low = torch.tensor(self.low, dtype=torch.float64) + intercept
        high = torch.tensor(self.high, dtype=torch.float64) + intercept
        y = x / scale
        if bool(((y @ rows.T >= low) & (y @ rows.T <= high)).all()):
            return x
        corrections = torch.zeros(m, *y.shape, dtype=torch.float64)
        norms = (rows * rows).sum(1)
        for _ in range(cycles):
            before = y
            for i in range(m):
                z = y + corrections[i]
                level = z @ rows[i]
                shift = (torch.clamp(level, low[i], high[i]) - level) / norms[i]
                y_new = z + shift[:, None] * rows[i]
                corrections[i] = z - y_new
                y = y_new
            if float((y - before).abs().max()) < 1e-7:  # converged (in slider spans)
                break
        return y * scale

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


MET = {"cm": 0.5, "kg": 1.0}  # an asked value within 5 mm or 1 kg counts as reached


def calibrated(slider_set, grid: int = 9) -> Coupling:
    """``slider_set``'s coupling with each band shrunk to where it is reached: each coupled
    slider swept over its band, the others at their defaults, keeps the stretch around its
    default where the shape measures every asked value within :data:`MET`."""
    coupling = slider_set.coupling
    defaults = torch.tensor(slider_set.defaults, dtype=torch.float64)
    bounds = list(slider_set.ranges(slider_set.defaults).values())
    meter = slider_set.anthropometer
    tolerance = torch.tensor([MET.get(s.unit, float("inf")) for s in slider_set.sliders],
                             dtype=torch.float64)
    low, high = list(coupling.low), list(coupling.high)
    index = [slider_set.names.index(name) for name in coupling.names]
    centre = coupling.bands(defaults[index][None])[0][0] - torch.tensor(coupling.low,
                                                                         dtype=torch.float64)
    for m, name in enumerate(coupling.names):
        i = slider_set.names.index(name)
        grid_values = torch.linspace(*bounds[i], grid, dtype=torch.float64)
        rows = defaults.repeat(grid, 1)
        rows[:, i] = grid_values
        with torch.no_grad():
            measured = meter.measure(slider_set.model(slider_set.coefficients(rows)))
        got = torch.stack([measured[s.name].double() if s.measurement else rows[:, j]
                           for j, s in enumerate(slider_set.sliders)], dim=1)
        met = ((got - rows).abs() <= tolerance).all(1).tolist()
        first = last = int(torch.argmin((grid_values - defaults[i]).abs()))
        while first > 0 and met[first - 1]:
            first -= 1
        while last < grid - 1 and met[last + 1]:
            last += 1
        low[m] = float(grid_values[first] - centre[m])  # the band's edges at the reached ends
        high[m] = float(grid_values[last] - centre[m])
    return dataclasses.replace(coupling, low=tuple(low), high=tuple(high))
