"""The most likely body given the measurements someone knows: a Gaussian over bodies.

People know their height and mass, sometimes a waist; the rest should follow. :class:`BodyModel`
is one Gaussian over a body's measurements and its model coefficients, fitted on bodies drawn
from the model's sampling prior (the training set of a metric slider set). Conditioning it on
the values that are set gives, in closed form, the most likely value of everything else:

- it is a linear function of the set values, so sweeping a slider moves every free value and
  coefficient smoothly, and the same values always give the same body (no history);
- it is the population's own regression: a 150 cm, 48 kg request gets the chest, waist, hips,
  limb lengths and build of such people, not those of the default body.

Why one Gaussian rather than a mixture per sex: a mixture's conditional mean switches between
components where their responsibilities cross (a small step would flip the body's sex), and its
typical region is a union of ellipsoids, whose nearest point jumps. With one Gaussian the build
(Anny's gender phenotype) is one more variable: free, it follows the measurements continuously
(tall and heavy is more male); set, it conditions the rest. The population's bimodality is
left to refinement (:mod:`semantify.sets.metric_fit`), which meets the set values exactly.

:meth:`BodyModel.typical` is the region people occupy: the set values' Mahalanobis distance
under their marginal within the chi-square quantile of :data:`LEVEL_Z`. A request outside it
is moved to the nearest point inside (in units of each variable's ``scale``) before the body is
built: the nearest person. Projection onto a convex set is monotone, so sweeping one slider
never moves its target backwards.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence

import torch

from semantify.errors import SemantifyError

# The typical region's level (a standard normal quantile). The Gaussian is fitted on the model
# prior's bodies, whose waist varies less with height and mass than people's: at 3.719
# (99.99%) it left out 8 of 200 NHANES requests inside the survey's own 99% region (height, BMI
# and waist given sex; bench/metric_person.py) that refinement meets with human bodies, the
# farthest at a squared distance of 42.4 (178.8 cm, 123 kg, waist 109). 5.6 holds a squared
# distance of 44 with three values set, 40 with two.
LEVEL_Z = 5.6
RIDGE = 1e-6  # added to each variance (times itself, plus 1e-10): constant columns stay solvable


@dataclasses.dataclass(frozen=True)
class Limit:
    """``low <= sum(weight x variable) <= high`` over named variables: a slider's range
    ({name: 1}), or a proportion (inseam - 0.43 x height >= 0)."""

    weights: Mapping[str, float]
    low: float = -math.inf
    high: float = math.inf

    def __post_init__(self):
        if not self.weights or not self.low <= self.high:
            raise SemantifyError("a body limit needs variables and low <= high.")

    @classmethod
    def ratio(cls, length: str, of: str, low: float, high: float) -> tuple[Limit, Limit]:
        """``low <= length / of <= high`` for positive ``of``: two linear limits."""
        return cls({length: 1.0, of: -low}, low=0.0), cls({length: 1.0, of: -high}, high=0.0)


@dataclasses.dataclass(frozen=True)
class Phenotype:
    """A slider that sets one model coefficient directly (``value -> coefficient``: ``flip``
    means coefficient = 1 - value), shown as ``label``."""

    name: str
    coefficient: str
    label: str
    flip: bool = False

    def coefficient_value(self, value: torch.Tensor) -> torch.Tensor:
        return 1 - value if self.flip else value

    def slider_value(self, coefficient: torch.Tensor) -> torch.Tensor:
        return 1 - coefficient if self.flip else coefficient


# Anny's gender phenotype runs from 0 (male) to 1 (female); the slider reads female to male.
PHENOTYPES = {p.name: p for p in (
    Phenotype("build", "gender", "Build (female–male)", flip=True),
)}


def phenotype(name: str) -> Phenotype | None:
    return PHENOTYPES.get(name)


def chi2_quantile(dof: int, z: float = LEVEL_Z) -> float:
    """The chi-square quantile with ``dof`` degrees of freedom at the normal quantile ``z``
    (Wilson-Hilferty; within 1% of the exact value from 1 degree up)."""
    k = float(dof)
    return k * (1 - 2 / (9 * k) + z * math.sqrt(2 / (9 * k))) ** 3


@dataclasses.dataclass(frozen=True, eq=False)
class BodyModel:
    """A Gaussian over named variables (measurements, then model coefficients): ``mean`` (D,)
    and ``covariance`` (D, D), float64. Checked on construction (sizes, finite, symmetric,
    positive definite)."""

    names: tuple[str, ...]
    mean: torch.Tensor
    covariance: torch.Tensor

    def __post_init__(self):
        d = len(self.names)
        mean = torch.as_tensor(self.mean, dtype=torch.float64)
        covariance = torch.as_tensor(self.covariance, dtype=torch.float64)
        if d < 2 or len(set(self.names)) != d:
            raise SemantifyError("a body model needs two or more distinct variable names; "
                                 "refit it from a dataset.")
        if mean.shape != (d,) or covariance.shape != (d, d):
            raise SemantifyError(f"a body model of {d} variables needs a ({d},) mean and a "
                                 f"({d}, {d}) covariance; refit it from a dataset.")
        if not (torch.isfinite(mean).all() and torch.isfinite(covariance).all()):
            raise SemantifyError("a body model has non-finite numbers; refit it from a dataset.")
        if not torch.allclose(covariance, covariance.T, rtol=1e-6, atol=1e-9):
            raise SemantifyError("a body model's covariance is not symmetric; refit it.")
        if torch.linalg.cholesky_ex(covariance).info != 0:
            raise SemantifyError("a body model's covariance is not positive definite; refit it "
                                 "from more bodies.")
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "covariance", covariance)

    @classmethod
    def fit(cls, names: Sequence[str], rows: torch.Tensor) -> BodyModel:
        """The Gaussian of (N, D) ``rows`` (one body per row, columns ``names``)."""
        rows = torch.as_tensor(rows, dtype=torch.float64)
        rows = rows[torch.isfinite(rows).all(1)]
        if rows.shape[0] <= rows.shape[1]:
            raise SemantifyError(f"fitting a body model of {rows.shape[1]} variables needs more "
                                 f"bodies than that ({rows.shape[0]} measured); generate more.")
        mean = rows.mean(0)
        centred = rows - mean
        covariance = centred.T @ centred / (rows.shape[0] - 1)
        covariance = (covariance + covariance.T) / 2
        covariance += torch.diag(RIDGE * covariance.diagonal() + 1e-10)
        return cls(tuple(names), mean, covariance)

    def index(self, names: Sequence[str]) -> list[int]:
        unknown = [n for n in names if n not in self.names]
        if unknown:
            raise SemantifyError(f"the body model has no variable {unknown[0]!r}; it knows "
                                 f"{', '.join(self.names[:10])}, ...")
        return [self.names.index(n) for n in names]

    def predict(self, known: Sequence[str], values: torch.Tensor) -> torch.Tensor:
        """(B, S) values of the ``known`` variables -> (B, D) the most likely value of every
        variable given them (the known ones equal to their values); with nothing known, the
        mean."""
        values = torch.as_tensor(values, dtype=torch.float64)
        values = values[None] if values.ndim == 1 else values
        out = self.mean.expand(values.shape[0], -1).clone()
        if not known:
            return out
        s = self.index(known)
        gain = torch.linalg.solve(self.covariance[s][:, s], self.covariance[s]).T  # (D, S)
        out += (values - self.mean[s]) @ gain.T
        out[:, s] = values
        return out

    def interval(self, known: Sequence[str], values: torch.Tensor, name: str,
                 z: float = LEVEL_Z) -> tuple[float, float]:
        """(S,) values of the ``known`` variables -> the range ``name`` takes given them (its
        conditional mean +- ``z`` conditional standard deviations)."""
        (i,) = self.index([name])
        s = self.index([k for k in known if k != name])
        kept = torch.as_tensor(values, dtype=torch.float64).reshape(-1)
        kept = kept[[j for j, k in enumerate(known) if k != name]]
        mean, variance = self.mean[i], self.covariance[i, i]
        if s:
            gain = torch.linalg.solve(self.covariance[s][:, s], self.covariance[s, i])  # (S,)
            mean = mean + (kept - self.mean[s]) @ gain
            variance = variance - self.covariance[i, s] @ gain
        sd = float(variance.clamp_min(0).sqrt())
        return float(mean) - z * sd, float(mean) + z * sd

    def distance2(self, known: Sequence[str], values: torch.Tensor) -> torch.Tensor:
        """(B, S) values -> (B,) their squared Mahalanobis distance under their marginal."""
        s = self.index(known)
        offset = torch.as_tensor(values, dtype=torch.float64) - self.mean[s]
        solved = torch.linalg.solve(self.covariance[s][:, s], offset.T).T
        return (offset * solved).sum(1)

    def typical(self, known: Sequence[str], values: torch.Tensor, scale: torch.Tensor,
                limits: Sequence[Limit] = (), cycles: int = 40) -> torch.Tensor:
        """(B, S) values -> the nearest values (distance in units of the (S,) ``scale``) that
        people have: inside the typical region (see :data:`LEVEL_Z`), with the most likely
        body given them inside every one of ``limits`` (each a linear combination of
        variables: a slider's range, a proportion). Values already there come back as they
        are. Dykstra's alternating projections onto the ellipsoid and the slabs (all convex)."""
        values = torch.as_tensor(values, dtype=torch.float64)
        if not known:
            return values
        s = self.index(known)
        scale = torch.as_tensor(scale, dtype=torch.float64).clamp_min(1e-9)
        # in u = (x - mean) / scale the metric is plain and the region is u^T Q u <= r^2
        q = torch.linalg.inv(self.covariance[s][:, s] / scale[:, None] / scale[None, :])
        eigenvalues, vectors = torch.linalg.eigh((q + q.T) / 2)
        radius2 = chi2_quantile(len(s))
        rows, low, high = self._slabs(known, scale, limits)
        u = (values - self.mean[s]) / scale

        def inside(u: torch.Tensor) -> torch.Tensor:
            level = ((u @ q) * u).sum(1) <= radius2 * (1 + 1e-9)
            if len(rows):
                at = u @ rows.T
                level &= ((at >= low - 1e-9) & (at <= high + 1e-9)).all(1)
            return level

        todo = ~inside(u)
        if not bool(todo.any()):
            return values
        y = u[todo]
        corrections = torch.zeros(1 + len(rows), *y.shape, dtype=torch.float64)
        for _ in range(cycles if len(rows) else 1):
            z = y + corrections[0]
            y = _onto_ellipsoid(z, eigenvalues, vectors, radius2)
            corrections[0] = z - y
            for j in range(len(rows)):
                z = y + corrections[j + 1]
                level = z @ rows[j]
                y = z + ((level.clamp(low[j], high[j]) - level) / (rows[j] @ rows[j]))[:, None] \
                    * rows[j]
                corrections[j + 1] = z - y
        u = u.clone()
        u[todo] = y
        return self.mean[s] + u * scale

    def _slabs(self, known: Sequence[str], scale: torch.Tensor, limits: Sequence[Limit]):
        """``limits`` on the most likely body as slabs low <= rows @ u <= high in the scaled
        coordinates of the known variables: ((J, S), (J,), (J,)). A limit naming a variable
        this model lacks is left out."""
        s = self.index(known)
        usable = [limit for limit in limits if all(n in self.names for n in limit.weights)]
        if not usable:
            empty = torch.zeros(0, dtype=torch.float64)
            return torch.zeros(0, len(s), dtype=torch.float64), empty, empty
        names = sorted({n for limit in usable for n in limit.weights})
        j = self.index(names)
        # the most likely value of variable v is mean_v + (gain_v * scale) @ u
        gain = torch.linalg.solve(self.covariance[s][:, s], self.covariance[s][:, j]).T  # (J, S)
        for row, name in enumerate(names):  # a known variable's most likely value is itself
            if name in known:
                gain[row] = torch.eye(len(s), dtype=torch.float64)[list(known).index(name)]
        rows, low, high = [], [], []
        for limit in usable:
            weights = torch.tensor([limit.weights.get(n, 0.0) for n in names],
                                   dtype=torch.float64)
            constant = float(weights @ self.mean[j])
            rows.append((weights @ gain) * scale)
            low.append(limit.low - constant)
            high.append(limit.high - constant)
        return torch.stack(rows), torch.tensor(low), torch.tensor(high)

    def to_dict(self) -> dict:
        return {"names": list(self.names), "mean": self.mean.tolist(),
                "covariance": self.covariance.tolist()}


def _onto_ellipsoid(u: torch.Tensor, eigenvalues: torch.Tensor, vectors: torch.Tensor,
                    radius2: float) -> torch.Tensor:
    """(A, S) points -> the nearest points of {u : u^T Q u <= radius2}, Q = V diag(e) V^T.
    Outside, the nearest point is (I + lam Q)^-1 u with lam > 0 putting it on the boundary,
    where n(lam) = sqrt(u^T Q u) of that point equals the radius. lam is found by Newton's
    method on 1/n(lam) - 1/radius, which is nearly linear in lam (as in More and Sorensen's
    trust-region step): from lam = 0 it rises to the root without overshooting, in a few
    steps where bisection took a hundred."""
    beta = u @ vectors  # (A, S)
    lam = torch.zeros(beta.shape[0], dtype=torch.float64)
    radius = radius2 ** 0.5
    weighted = eigenvalues * beta * beta  # (A, S)
    outside = weighted.sum(1) > radius2
    for _ in range(100):
        shrink = 1 + lam[:, None] * eigenvalues
        norm2 = (weighted / shrink ** 2).sum(1)
        slope = -2 * (weighted * eigenvalues / shrink ** 3).sum(1)  # d norm2 / d lam
        # g = norm2^-1/2 - 1/radius; g' = -norm2^-3/2 slope / 2
        g = norm2.rsqrt() - 1 / radius
        step = torch.where(outside & (g < 0), -g / (-0.5 * norm2.pow(-1.5) * slope), 0.0)
        lam = lam + step
        if not bool((step > 1e-13 * (1 + lam)).any()):
            break
    return torch.where(outside[:, None], (beta / (1 + lam[:, None] * eigenvalues)) @ vectors.T,
                       u)
