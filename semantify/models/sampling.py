"""Seeded coefficient samplers: sample i depends only on (seed, i), never on the batch.

That property makes a dataset identical however its index range is split across processes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
import torch

from semantify.errors import SemantifyError

if TYPE_CHECKING:
    from semantify.models.base import Coefficient

Kind = Literal["reference", "normal", "uniform", "sparse"]
KINDS = ("reference", "normal", "uniform", "sparse")


@dataclasses.dataclass(frozen=True)
class Distribution:
    """How coefficients are drawn.

    - ``reference``: N(0, scale²) times an integer drawn from {-2, -1, 0, 1}, as the
      Semantify paper does for betas (a quarter exactly zero, a quarter with double spread).
    - ``normal``: N(default, scale²).
    - ``uniform``: U[low, high] of each coefficient.
    - ``sparse``: each coefficient is active with probability ``active``, then uniform in
      its range; inactive ones stay at their default (for many local blendshapes).

    Every draw is clipped to the coefficient's range.
    """

    kind: Kind = "normal"
    scale: float = 1.0
    active: float = 0.2

    def __post_init__(self):
        if self.kind not in KINDS:
            raise SemantifyError(
                f"unknown distribution {self.kind!r}; choose one of {', '.join(KINDS)}."
            )


def _draw(dist: Distribution, rng: np.random.Generator, low, high, default) -> np.ndarray:
    n = low.shape[0]
    if dist.kind == "reference":
        values = rng.standard_normal(n) * dist.scale * rng.integers(-2, 2, n)
    elif dist.kind == "normal":
        values = default + rng.standard_normal(n) * dist.scale
    elif dist.kind == "uniform":
        values = rng.uniform(low, high)
    else:
        values = np.where(rng.random(n) < dist.active, rng.uniform(low, high), default)
    return np.clip(values, low, high)


def sample_coefficients(
    dist: Distribution | Sequence[tuple[slice, Distribution]],
    coefficients: Sequence[Coefficient],
    indices: Sequence[int] | torch.Tensor,
    seed: int,
) -> torch.Tensor:
    """(N, C) float32 coefficients for ``indices``.

    ``dist`` is one distribution for all coefficients, or (slice, distribution) pairs for
    groups of them (such as Anny's phenotypes and local changes).
    """
    groups = [(slice(None), dist)] if isinstance(dist, Distribution) else list(dist)
    low = np.array([c.low for c in coefficients], dtype=np.float64)
    high = np.array([c.high for c in coefficients], dtype=np.float64)
    default = np.array([c.default for c in coefficients], dtype=np.float64)
    rows = []
    for index in torch.as_tensor(indices).tolist():
        rng = np.random.default_rng([int(seed), int(index)])
        row = default.copy()
        for part, group_dist in groups:
            row[part] = _draw(group_dist, rng, low[part], high[part], default[part])
        rows.append(row)
    return torch.tensor(np.array(rows).reshape(-1, len(coefficients)), dtype=torch.float32)
