"""Refine coefficients so the built mesh measures what was asked: damped Gauss-Newton.

The mapper regresses to a conditional mean, so a shape made for (height, waist, ...) misses the
asked values by centimetres. :func:`refine_to_measurements` closes that gap with a few
Levenberg-Marquardt steps on a subspace of the coefficients. The Jacobian of the measurements
is taken by finite differences: all B x (k + 1) perturbed meshes are built in one forward and
measured in one call per iteration. Residuals are counted in tolerances (1 mm, 0.1 kg).

Two terms keep the body human while it is pulled toward the asked values:
- a prior holds each coefficient near its start (the mapper's output) in units of how far the
  model's sampling prior lets it move
  (:func:`semantify.models.prior_sampling.coefficient_spread`): a local change that the prior
  barely moves costs far more than a phenotype, so 130 kg comes from the weight phenotype, not
  from one huge thigh;
- the skeletal lengths nobody asked for (arm length, shoulder width, inseam, and height when not
  asked; ``skeletal`` in the measurement registry) are held at reference values, by default
  the start's: a wider waist does not shorten the arms.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import torch

from semantify.errors import SemantifyError

STEP = 0.01  # finite-difference step, as a share of each coefficient's range
PRIOR = 0.1  # weight of ||(c - start) / prior spread||^2 against residuals counted in tolerances
HOLD = 4.0  # held (unasked) lengths count as met within HOLD x their tolerance (4 mm)
DAMPING = 1e-2  # initial Marquardt damping, times diag(J^T J) (x10 after a worse step, else /3)
CHUNK = 16  # rows refined together: 16 x (k + 1) meshes of Anny are ~60 MB


def _free_indices(model, free: Sequence[str] | Sequence[int] | None) -> torch.Tensor:
    if free is None:
        return torch.tensor(model.refinable_indices, dtype=torch.long)
    names = [c.name for c in model.coefficients]
    indices = []
    for item in free:
        if isinstance(item, str):
            if item not in names:
                raise SemantifyError(f"cannot refine {item!r}: {model.id} has no such coefficient;"
                                     f" pick from `semantify models {model.id}`.")
            item = names.index(item)
        indices.append(int(item))
    if not indices:
        raise SemantifyError("nothing to refine: pass at least one free coefficient.")
    return torch.tensor(sorted(set(indices)), dtype=torch.long)


def _tolerance(name: str) -> float:
    """Within what a refined ``name`` counts as met, in its unit (the registry decides)."""
    from semantify.measurements.registry import MEASUREMENTS

    known = MEASUREMENTS.get(name)
    if known is None or not known.refinable:
        refinable = ", ".join(m.name for m in MEASUREMENTS.values() if m.refinable)
        raise SemantifyError(f"cannot refine toward {name!r}; refinable measurements: "
                             f"{refinable}.")
    return known.tolerance


def held_lengths(anthropometer, asked: Sequence[str]) -> list[str]:
    """The skeletal measurements ``anthropometer`` takes that are not ``asked``."""
    from semantify.measurements.registry import MEASUREMENTS

    return [name for name in anthropometer.names
            if name not in asked and MEASUREMENTS[name].skeletal]


class _Residuals:
    """(N, C) coefficients -> (N, M) measured minus asked, in tolerances; one forward, one measure.

    The last ``held`` columns count in HOLD x tolerance."""

    def __init__(self, model, anthropometer, names: Sequence[str], held: Sequence[str] = ()):
        self.model, self.anthropometer = model, anthropometer
        self.names = list(names) + list(held)
        self.scale = torch.tensor([_tolerance(n) * (HOLD if i >= len(names) else 1.0)
                                   for i, n in enumerate(self.names)], dtype=torch.float32)

    def __call__(self, coefficients: torch.Tensor, asked: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            measured = self.anthropometer.measure(self.model(coefficients))
        missing = [n for n in self.names if n not in measured]
        if missing:
            raise SemantifyError(f"cannot measure {missing[0]!r}; measurements are "
                                 f"{', '.join(measured)}.")
        values = torch.stack([measured[n].float().cpu() for n in self.names], dim=1)
        return torch.nan_to_num((values - asked) / self.scale, nan=1e6)


def refine_to_measurements(model, coefficients: torch.Tensor,
                           targets: Mapping[str, torch.Tensor], anthropometer,
                           iterations: int = 3, free: Sequence[str] | Sequence[int] | None = None,
                           held: Mapping[str, torch.Tensor] | None = None) -> torch.Tensor:
    """(B, C) start coefficients -> (B, C) ones whose meshes measure ``targets``.

    ``targets`` maps measurement names (``height_cm``, ``mass_kg``, ...) to (B,) asked values.
    Only the ``free`` coefficients (names or indices; default: the model's ``refinable`` ones)
    move, within what the model's sampling prior draws (and the model's range). The unasked
    skeletal lengths are held at ``held`` ({name: (B,)}; default: the start's). A row stops as
    soon as all its residuals are within 1 mm / 0.1 kg (held lengths: 4 mm); each row keeps the
    best coefficients it has seen, so the result never measures worse than the start.
    """
    refiner = MeasurementRefiner(model, anthropometer, list(targets), free, iterations)
    return refiner(coefficients, targets, held)


class MeasurementRefiner:
    """:func:`refine_to_measurements` with its set-up done once, for repeated calls.

    A result depends only on the call's inputs (no state carries over between calls), so the
    same slider values always give the same body. Rows still off target after ``iterations``
    steps get up to as many again; rows on target stop early.
    """

    def __init__(self, model, anthropometer, names: Sequence[str],
                 free: Sequence[str] | Sequence[int] | None = None, iterations: int = 3):
        from semantify.models.prior_sampling import coefficient_spread, coefficient_support

        self.model, self.names, self.iterations = model, list(names), int(iterations)
        self.anthropometer = anthropometer
        self.held = held_lengths(anthropometer, self.names) if self.names else []
        self.residuals = _Residuals(model, anthropometer, self.names, self.held)
        self.free = _free_indices(model, free)
        model_low = torch.tensor([c.low for c in model.coefficients], dtype=torch.float32)
        model_high = torch.tensor([c.high for c in model.coefficients], dtype=torch.float32)
        self.span = (model_high - model_low)[self.free].clamp_min(1e-6)  # (k,)
        # the free coefficients stay where the sampling prior goes (others: the model's range)
        low, high = (torch.as_tensor(x, dtype=torch.float32)
                     for x in coefficient_support(model.prior, model))
        self.low, self.high = model_low.clone(), model_high.clone()
        self.low[self.free], self.high[self.free] = low[self.free], high[self.free]
        spread = torch.as_tensor(coefficient_spread(model.prior, model), dtype=torch.float64)
        # PRIOR x ((c - start) / spread)^2, written in u = c / span: (k,) weights
        self.prior_weight = PRIOR * (self.span.double() / spread[self.free]) ** 2

    def measure_held(self, coefficients: torch.Tensor) -> dict[str, torch.Tensor]:
        """(B, C) coefficients -> {held name: (B,)} their meshes' unasked skeletal lengths."""
        if not self.held:
            return {}
        with torch.no_grad():
            measured = self.anthropometer.measure(self.model(coefficients))
        return {name: measured[name].float().cpu() for name in self.held}

    def __call__(self, coefficients: torch.Tensor, targets: Mapping[str, torch.Tensor],
                 held: Mapping[str, torch.Tensor] | None = None,
                 deadline: float | None = None) -> torch.Tensor:
        """(B, C) start coefficients, {name: (B,)} asked values and {held name: (B,)} lengths
        to hold (default: the start's) -> (B, C) refined.

        ``deadline``: a ``time.monotonic()`` past which refinement stops with its best so far
        (a server's per-request budget). Within it, results depend only on the inputs.
        """
        model = self.model
        coefficients = torch.as_tensor(coefficients, dtype=torch.float32).detach().cpu()
        if coefficients.ndim != 2 or coefficients.shape[1] != len(model.coefficients):
            raise SemantifyError(f"coefficients have shape {tuple(coefficients.shape)}; pass "
                                 f"(B, {len(model.coefficients)}) for {model.id}.")
        start = torch.minimum(torch.maximum(coefficients, self.low), self.high)
        if not self.names or self.iterations < 1:
            return start
        b = start.shape[0]
        if self.held and held is None:
            held = self.measure_held(start)
        wanted = {**dict(targets), **{n: held[n] for n in self.held}}
        asked = torch.stack([torch.as_tensor(wanted[n], dtype=torch.float32).reshape(-1).cpu()
                             .expand(b) for n in self.residuals.names], dim=1)  # (B, M + H)
        if b > CHUNK:
            return torch.cat([self._refine(start[i:i + CHUNK], asked[i:i + CHUNK], deadline)
                              for i in range(0, b, CHUNK)])
        return self._refine(start, asked, deadline)

    def _refine(self, start: torch.Tensor, asked: torch.Tensor,
                deadline: float | None) -> torch.Tensor:
        fit = _Fit(self, start, asked)
        steps = 2 * self.iterations
        for iteration in range(steps + 1):
            if not len(fit.active) or (deadline is not None and time.monotonic() > deadline):
                break
            fit.evaluate(jacobian=iteration < steps)
            if iteration < steps:
                fit.step()
        return fit.best


class _Fit:
    """The state of one refinement: per row the best coefficients, residuals and Jacobian."""

    def __init__(self, refiner: MeasurementRefiner, start: torch.Tensor, asked: torch.Tensor):
        self.r, self.start, self.asked = refiner, start, asked
        b, k, m = start.shape[0], len(refiner.free), len(refiner.residuals.names)
        self.best, self.current = start.clone(), start.clone()  # (B, C)
        self.best_r = torch.full((b, m), float("inf"))  # (B, M) in tolerances
        self.best_j = torch.zeros(b, m, k)  # (B, M, k) per unit of range
        self.damping = torch.full((b,), DAMPING)
        self.active = torch.arange(b)

    def evaluate(self, jacobian: bool) -> torch.Tensor:
        """Measure the active rows' current coefficients (and their Jacobian); keep the best.

        Returns the (A, M) residuals of the rows measured.
        """
        rows, active, refiner = self.current[self.active], self.active, self.r
        if jacobian:
            r, j = _jacobian(refiner.residuals, rows, self.asked[active], refiner.free,
                             refiner.span, refiner.high)
        else:
            r, j = refiner.residuals(rows, self.asked[active]), None
        better = r.pow(2).sum(1) < self.best_r[active].pow(2).sum(1)
        kept = active[better]
        self.best[kept], self.best_r[kept] = rows[better], r[better]
        if j is not None:
            self.best_j[kept] = j[better]
        self.damping[active] = torch.where(better, self.damping[active] / 3,
                                           self.damping[active] * 10)
        self.active = active[self.best_r[active].abs().amax(1) > 1.0]
        return r

    def step(self) -> None:
        a, refiner = self.active, self.r
        self.current[a] = _step(self.best[a], self.start[a], self.best_r[a], self.best_j[a],
                                self.damping[a], refiner.free, refiner.span, refiner.low,
                                refiner.high, refiner.prior_weight)


def _jacobian(residuals: _Residuals, rows: torch.Tensor, asked: torch.Tensor,
              free_idx: torch.Tensor, span: torch.Tensor,
              high: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(A, C) rows -> (A, M) residuals and (A, M, k) their finite-difference Jacobian in u."""
    a, k = rows.shape[0], len(free_idx)
    h = STEP * span  # (k,)
    at = rows[:, free_idx]
    sign = torch.where(at + h > high[free_idx], -1.0, 1.0)  # step down at the upper bound
    perturbed = rows[:, None].repeat(1, k + 1, 1)  # (A, k+1, C): row, then one per free coef
    steps = sign * h  # (A, k)
    perturbed[:, 1:, free_idx] += torch.diag_embed(steps)
    r = residuals(perturbed.reshape(a * (k + 1), -1),
                  asked.repeat_interleave(k + 1, dim=0)).view(a, k + 1, -1)
    jacobian = (r[:, 1:] - r[:, :1]) / (steps / span)[..., None]  # (A, k, M) per unit of u
    return r[:, 0], jacobian.transpose(1, 2)


def _step(rows: torch.Tensor, start: torch.Tensor, r: torch.Tensor, jacobian: torch.Tensor,
          damping: torch.Tensor, free_idx: torch.Tensor, span: torch.Tensor, low: torch.Tensor,
          high: torch.Tensor, prior_weight: torch.Tensor) -> torch.Tensor:
    """One damped Gauss-Newton step from (A, C) ``rows``, clamped into the model's ranges.

    In u = coefficients / span: minimise |r + J d|^2 + sum_i w_i (u - u_start + d)_i^2
    + damping |diag(J^T J)^(1/2) d|^2 over d, with w the (k,) ``prior_weight``.
    """
    u_offset = (rows[:, free_idx] - start[:, free_idx]) / span  # (A, k)
    jt = jacobian.transpose(1, 2).double()  # (A, k, M)
    jtj = jt @ jacobian.double()
    scale = damping.double()[:, None] * torch.diagonal(jtj, dim1=1, dim2=2)  # (A, k)
    lhs = jtj + torch.diag(prior_weight) + torch.diag_embed(scale)
    rhs = -(jt @ r.double()[..., None])[..., 0] - prior_weight * u_offset.double()
    at = rows[:, free_idx]
    for _ in range(2):  # solve, then again with the coefficients stuck at a bound held still
        d = torch.linalg.solve(lhs, rhs).float()  # (A, k)
        stuck = ((at + d * span >= high[free_idx]) & (at >= high[free_idx] - 1e-6)) | (
            (at + d * span <= low[free_idx]) & (at <= low[free_idx] + 1e-6))
        if not stuck.any():
            break
        lhs = lhs + torch.diag_embed(stuck.double() * 1e12)
    out = rows.clone()
    out[:, free_idx] += d * span
    return torch.minimum(torch.maximum(out, low), high)
