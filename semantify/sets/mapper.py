"""The mapper: descriptor scores (B, K) in, model coefficients (B, C) out. Pure torch.

Inputs and outputs are standardised inside the network with statistics fitted on the training
data and stored with its weights, so callers always pass raw scores and get raw coefficients.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

MIN_STD = 1e-6


def fit_statistics(values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, D) values -> (D,) mean and (D,) std (constant columns get std 1)."""
    values = values.to(torch.float32)
    mean = values.mean(0)
    std = values.std(0) if values.shape[0] > 1 else torch.ones_like(mean)
    return mean, torch.where(std > MIN_STD, std, torch.ones_like(std))


class Mapper(torch.nn.Module):
    """An MLP from standardised scores to standardised coefficients, wrapped in the scalings.

    ``hidden`` lists the hidden layer widths (``()`` is a linear map). Buffers ``in_mean``,
    ``in_std`` (K,) and ``out_mean``, ``out_std`` (C,) hold the standardisation.
    """

    def __init__(self, num_inputs: int, num_outputs: int, hidden: Sequence[int] = (256, 256)):
        super().__init__()
        self.hidden = tuple(int(h) for h in hidden)
        layers: list[torch.nn.Module] = []
        width = num_inputs
        for h in self.hidden:
            layers += [torch.nn.Linear(width, h), torch.nn.SiLU()]
            width = h
        last = torch.nn.Linear(width, num_outputs)
        torch.nn.init.zeros_(last.weight)  # start at the mean shape, not at random coefficients
        torch.nn.init.zeros_(last.bias)
        self.net = torch.nn.Sequential(*layers, last)
        self.register_buffer("in_mean", torch.zeros(num_inputs))
        self.register_buffer("in_std", torch.ones(num_inputs))
        self.register_buffer("out_mean", torch.zeros(num_outputs))
        self.register_buffer("out_std", torch.ones(num_outputs))

    @property
    def num_inputs(self) -> int:
        return self.in_mean.shape[0]

    @property
    def num_outputs(self) -> int:
        return self.out_mean.shape[0]

    def set_statistics(self, inputs: torch.Tensor, outputs: torch.Tensor) -> None:
        """Fit the standardisation on training (N, K) inputs and (N, C) outputs."""
        for values, prefix in ((inputs, "in"), (outputs, "out")):
            mean, std = fit_statistics(values)
            getattr(self, f"{prefix}_mean").copy_(mean)
            getattr(self, f"{prefix}_std").copy_(std)

    def standardised(self, scores: torch.Tensor) -> torch.Tensor:
        """(B, K) raw scores -> (B, C) standardised coefficients (what the loss compares)."""
        return self.net((scores - self.in_mean) / self.in_std)

    def standardise_outputs(self, coefficients: torch.Tensor) -> torch.Tensor:
        """(B, C) raw coefficients -> (B, C) standardised ones."""
        return (coefficients - self.out_mean) / self.out_std

    def forward(self, scores: torch.Tensor) -> torch.Tensor:
        """(B, K) raw scores -> (B, C) raw coefficients."""
        return self.standardised(scores) * self.out_std + self.out_mean


def validation_split(n: int, fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Deterministic (train, val) int64 row indices of ``n`` rows, ``fraction`` held out."""
    order = torch.randperm(n, generator=torch.Generator().manual_seed(int(seed)))
    n_val = max(1, int(round(n * fraction))) if fraction > 0 else 0
    return order[n_val:].sort().values, order[:n_val].sort().values


def r2_score(predicted: torch.Tensor, target: torch.Tensor) -> float:
    """Coefficient of determination of (N, C) predictions, averaged over non-constant columns."""
    residual = ((predicted - target) ** 2).sum(0)
    total = ((target - target.mean(0)) ** 2).sum(0)
    varying = total > MIN_STD
    if not varying.any():
        return float("nan")
    return float((1 - residual[varying] / total[varying]).mean())


def vertex_error(predicted: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean per-vertex Euclidean distance (scalar, input units) of two (B, V, 3) meshes."""
    return (predicted - target).norm(dim=-1).mean()


def mean_vertex_error_mm(model, predicted: torch.Tensor, target: torch.Tensor,
                         batch_size: int = 256) -> float:
    """Mean per-vertex error in mm between meshes of (N, C) predicted and target coefficients."""
    total, count = 0.0, 0
    with torch.no_grad():
        for start in range(0, predicted.shape[0], batch_size):
            p, t = predicted[start:start + batch_size], target[start:start + batch_size]
            total += float(vertex_error(model(p), model(t))) * p.shape[0]
            count += p.shape[0]
    return 1000.0 * total / max(count, 1)
