"""Held-out R² of closed-form ridge regressions, batched over many descriptor subsets.

Everything is reduced to Gram matrices once, so scoring a subset costs a tiny (s, s) solve
no matter how many samples there are: 100 candidates × 10k samples take milliseconds a step.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

DEFAULT_LAMBDAS = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)
SPLITS = ("train", "validation", "test")


def split_indices(n: int, fractions: Sequence[float] = (0.7, 0.15, 0.15),
                  seed: int = 0) -> list[torch.Tensor]:
    """A fixed random train / validation / test split of ``range(n)``: three index tensors."""
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_val = max(1, round(n * fractions[1]))
    n_test = max(1, round(n * fractions[2]))
    n_train = n - n_val - n_test
    return [order[:n_train], order[n_train:n_train + n_val], order[n_train + n_val:]]


class HeldOutRidge:
    """Ridge from standardised descriptor values (N, K) to standardised coefficients (N, C).

    Both sides are standardised with training statistics; coefficients constant on the training
    split are dropped. ``lambdas`` are relative to the normalised Gram matrix ``X^T X / n``.
    """

    def __init__(self, values: torch.Tensor, coefficients: torch.Tensor,
                 splits: Sequence[torch.Tensor], lambdas: Sequence[float] = DEFAULT_LAMBDAS):
        x, y = values.double(), coefficients.double()
        train = splits[0]
        y_std = y[train].std(0)
        y = y[:, y_std > 1e-12]
        x = (x - x[train].mean(0)) / x[train].std(0).clamp_min(1e-12)
        y = (y - y[train].mean(0)) / y[train].std(0)
        self.lambdas = torch.tensor(lambdas, dtype=torch.float64)
        self.sizes = [len(index) for index in splits]
        # Per split: Gram (K, K), cross term (K, C), mean squared target, target variance.
        self.moments = []
        for index in splits:
            xs, ys, n = x[index], y[index], len(index)
            self.moments.append((xs.T @ xs / n, xs.T @ ys / n, (ys**2).sum() / n,
                                 ((ys - ys.mean(0))**2).sum() / n))

    def r2(self, subsets: torch.Tensor, split: str = "validation",
           lambda_index: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """R² on ``split`` of a ridge fit on train, for each row of ``subsets`` (m, s) long.

        Returns (m,) float64 R² and (m,) the index into ``lambdas`` used: the best on ``split``
        unless ``lambda_index`` fixes it (pick it on validation, then report on test).
        """
        gram, cross, _, _ = self.moments[0]
        eval_gram, eval_cross, mean_sq, variance = self.moments[SPLITS.index(split)]
        m, s = subsets.shape
        if s == 0:
            r2 = (1 - mean_sq / variance).expand(len(self.lambdas), m)
        else:
            rows, cols = subsets[:, :, None], subsets[:, None, :]
            system = gram[rows, cols] + self.lambdas[:, None, None, None] * torch.eye(s)
            targets = cross[subsets].expand(len(self.lambdas), -1, -1, -1)
            weights = torch.linalg.solve(system, targets)                # (L, m, s, C)
            sse = (mean_sq - 2 * (weights * eval_cross[subsets]).sum((-2, -1))
                   + (weights * (eval_gram[rows, cols] @ weights)).sum((-2, -1)))
            r2 = 1 - sse / variance                                      # (L, m)
        if lambda_index is None:
            return r2.max(0)[0], r2.argmax(0)
        return r2.gather(0, lambda_index[None]).squeeze(0), lambda_index
