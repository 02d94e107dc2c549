"""Word sliders in readable units: 0-100, the percentile of the training bodies' scores.

A CLIP score (``fat`` 12.64-13.55) means nothing to people; a percentile does: 0 is the least
"fat" body of the training population, 100 the most, and the default, 50, its median. The
mapper still reads raw scores: :class:`WordScale` keeps each word's score at every percentile
(from the training rows) and converts both ways, piecewise linearly. Photo and text fits score
raw and show percentiles. Sets trained before it existed have none and keep raw units.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence

import numpy as np
import torch

from semantify.errors import SemantifyError

POINTS = 101  # percentiles 0, 1, ..., 100
LOW, HIGH, DEFAULT = 0.0, 100.0, 50.0


@dataclasses.dataclass(frozen=True)
class WordScale:
    """For each word in ``names``, ``quantiles``: its raw score at percentiles 0..100 of the
    training rows (non-decreasing)."""

    names: tuple[str, ...]
    quantiles: tuple[tuple[float, ...], ...]

    def __post_init__(self):
        if len(self.names) != len(self.quantiles) or not self.names:
            raise SemantifyError("a word scale needs one row of percentiles per word; "
                                 "retrain the set.")
        for name, row in zip(self.names, self.quantiles):
            if len(row) != POINTS or not all(math.isfinite(v) for v in row) \
                    or any(b < a for a, b in itertools.pairwise(row)):
                raise SemantifyError(f"the percentiles of word {str(name)[:40]!r} are not "
                                     f"{POINTS} increasing numbers; retrain the set.")

    @classmethod
    def fit(cls, names: Sequence[str], scores: torch.Tensor) -> WordScale:
        """The scale of (N, K) raw ``scores`` of ``names`` (the training rows)."""
        levels = torch.linspace(0, 1, POINTS, dtype=torch.float64)
        table = torch.quantile(scores.to(torch.float64), levels, dim=0).T  # (K, POINTS)
        return cls(tuple(names), tuple(tuple(round(float(v), 6) for v in row) for row in table))

    def to_raw(self, percent: torch.Tensor) -> torch.Tensor:
        """(B, K) percentiles -> (B, K) raw scores (same dtype)."""
        return self._map(percent, to_raw=True)

    def to_percent(self, raw: torch.Tensor) -> torch.Tensor:
        """(B, K) raw scores -> (B, K) percentiles, 0 and 100 beyond the population."""
        return self._map(raw, to_raw=False)

    def _map(self, values: torch.Tensor, to_raw: bool) -> torch.Tensor:
        axis = np.linspace(LOW, HIGH, POINTS)
        x = values.detach().cpu().to(torch.float64).numpy()
        out = np.empty_like(x)
        for k, row in enumerate(self.quantiles):
            scores = _strictly_increasing(np.asarray(row))
            out[:, k] = (np.interp(x[:, k], axis, scores) if to_raw
                         else np.interp(x[:, k], scores, axis))
        return torch.from_numpy(out).to(values.dtype)

    def to_dict(self) -> dict:
        return {"units": "percentile of the training scores",
                "words": {name: list(row)
                          for name, row in zip(self.names, self.quantiles)}}

    @classmethod
    def from_dict(cls, record) -> WordScale:
        try:
            words = record["words"]
            return cls(tuple(str(n) for n in words),
                       tuple(tuple(float(v) for v in row) for row in words.values()))
        except (KeyError, TypeError, ValueError, AttributeError):
            raise SemantifyError("the word scale in sliders.json is damaged; retrain the "
                                 "set.") from None


def _strictly_increasing(row: np.ndarray) -> np.ndarray:
    """``row`` nudged so that ties (many bodies with one score) still interpolate both ways."""
    return row + np.arange(len(row)) * 1e-9 * max(float(np.abs(row).max()), 1.0)
