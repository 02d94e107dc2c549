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

A set with a body model (:class:`PersonFit`) starts instead from the most likely person with
the set values (:mod:`semantify.measurements.conditional`), moved first to the nearest values
people have, and holds every free measurement near that person's; the set values it still
misses are named in a note, asked against got.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence

import torch

from semantify.errors import SemantifyError
from semantify.sets.coupling import MET

STEP = 0.01  # finite-difference step, as a share of each coefficient's range
PRIOR = 0.1  # weight of ||(c - start) / prior spread||^2 against residuals counted in tolerances
HOLD = 4.0  # held (unasked) lengths count as met within HOLD x their tolerance (4 mm)
SOFT_HOLD = 20.0  # held girths and mass (free sliders): within 2 cm / 2 kg of their prediction
# A body that still misses a set value is refitted with its free girths and mass all but let go
# (counted in 10 m / 1000 kg, not 2 cm / 2 kg) and the prior's pull cut 100-fold: the Gaussian's
# linear guess for the free girths can be one no mesh has with the set values (162.5 cm,
# 68.7 kg, waist 111.2: chest 102, hips 116), and holding them there stopped the waist 9 mm
# short. The human checks still apply to the result.
LOOSE_HOLD, LOOSE_PRIOR = 1e4, 1e-3
DAMPING = 1e-2  # initial Marquardt damping, times diag(J^T J) (x10 after a worse step, else /3)
RATIO_MARGIN = 0.005  # a predicted proportion keeps this far inside a human check's range
# a body failing a human check is aimed this far out from the mean, in turn (142.9 cm and
# 125.8 kg still crossed itself at 0.5)
RETREAT = (0.9, 0.75, 0.5, 0.25)
# the refits of a body failing a human check, in turn (strict, toward the mean)
HUMAN_LADDER = ((True, 1.0), *((True, f) for f in RETREAT))
# the refits that bring a free value back inside its slider, in turn, until one is a person
# (146.9 cm, 155 kg kept its waist 0.7 cm past the slider until 0.75 of the way)
INSIDE_LADDER = ((False, 1.0), *HUMAN_LADDER)
INSIDE_MARGIN = 0.1  # a free value past its end is refitted this far inside it, in misses
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

    def __init__(self, model, anthropometer, names: Sequence[str], held: Sequence[str] = (),
                 hold: float = HOLD, soft: float = SOFT_HOLD):
        from semantify.measurements.registry import MEASUREMENTS

        self.model, self.anthropometer = model, anthropometer
        self.names = list(names) + list(held)
        self.scale = torch.tensor([
            _tolerance(n) * (1.0 if i < len(names) else hold if MEASUREMENTS[n].skeletal
                             else soft) for i, n in enumerate(self.names)],
            dtype=torch.float32)

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
                 free: Sequence[str] | Sequence[int] | None = None, iterations: int = 3,
                 hold: Sequence[str] | None = None, strength: float = HOLD,
                 soft: float = SOFT_HOLD, prior: float = PRIOR):
        from semantify.models.prior_sampling import coefficient_spread, coefficient_support

        self.model, self.names, self.iterations = model, list(names), int(iterations)
        self.anthropometer = anthropometer
        if hold is None:
            hold = held_lengths(anthropometer, self.names) if self.names else []
        self.held = [name for name in hold if name not in self.names]
        self.residuals = _Residuals(model, anthropometer, self.names, self.held, strength, soft)
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
        self.prior_weight = prior * (self.span.double() / spread[self.free]) ** 2

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
            # finite differences at the start and for rows still off target halfway; secant
            # updates (one mesh a row) between them
            fit.evaluate(jacobian=iteration in (0, steps // 2))
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
        else:  # one mesh a row: the step just taken corrects the Jacobian (Broyden)
            r = refiner.residuals(rows, self.asked[active])
            self.best_j[active] = _secant(
                self.best_j[active], self.best_r[active], r,
                (rows - self.best[active])[:, refiner.free] / refiner.span)
        better = r.pow(2).sum(1) < self.best_r[active].pow(2).sum(1)
        kept = active[better]
        self.best[kept], self.best_r[kept] = rows[better], r[better]
        if jacobian:
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


def _secant(jacobian: torch.Tensor, r_from: torch.Tensor, r_to: torch.Tensor,
            d: torch.Tensor) -> torch.Tensor:
    """Broyden's rank-one update of (A, M, k) Jacobians after steps ``d`` (A, k) in u that took
    the residuals from ``r_from`` to ``r_to`` (A, M): the least change that explains the step.
    Rows whose residuals are not finite measurements (1e6: a mesh that did not measure) keep
    their Jacobian."""
    predicted = (jacobian @ d[..., None])[..., 0]
    length = (d * d).sum(1)
    usable = (length > 1e-12) & (r_from.abs().amax(1) < 1e5) & (r_to.abs().amax(1) < 1e5)
    update = (r_to - r_from - predicted)[..., None] * d[:, None, :] / \
        length.clamp_min(1e-12)[:, None, None]
    return jacobian + torch.where(usable[:, None, None], update, 0.0)


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


class PersonFit:
    """Set values -> the most likely person who has them: the body model
    (:class:`semantify.measurements.conditional.BodyModel`) conditioned on the set values,
    moved to the nearest typical values first when no person has them, then refined until its
    mesh measures the set measurements, with every free measurement held near its prediction
    (skeletal lengths within 4 mm, girths and mass within 2 cm / 2 kg).

    ``variables`` names, per slider, its body-model variable (a measurement, or a phenotype's
    coefficient); ``scale`` (K,) is each one's standard deviation in the population, the unit
    of "nearest" (not the slider's span: a slider drawn wider would make its value the cheaper
    one to give up; with the height slider widened to 142.9-195.6 the nearest person to
    167.5 cm, 78 kg, waist 148 lost 2.6 cm of height in spans, 2.2 in deviations). A result
    depends only on its inputs: the same values and set sliders always give the same body.
    """

    def __init__(self, model, anthropometer, body, sliders: Sequence, iterations: int = 3,
                 free: Sequence[str] | None = None):
        from semantify.measurements.conditional import phenotype

        self.model, self.anthropometer, self.body = model, anthropometer, body
        self.sliders, self.iterations, self.free = tuple(sliders), int(iterations), free
        self.phenotypes = {s.name: phenotype(s.name) for s in self.sliders
                           if s.measurement is None}
        self.variables = [self.phenotypes[s.name].coefficient if s.measurement is None
                          else s.name for s in self.sliders]
        self.scale = body.covariance.diagonal().sqrt()[body.index(self.variables)]
        self.coefficient_index = body.index(model.coefficient_names)
        self.measured = [n for n in anthropometer.names if n in body.names]
        self._refiners: dict[tuple[str, ...], MeasurementRefiner] = {}
        # set values stay inside their sliders' ranges, free ones' predictions a hold in from
        # the ends (refinement holds them within 2 cm / 2 kg), and the predicted proportions
        # inside the human checks' (by RATIO_MARGIN: skeletal lengths are held within 4 mm)
        from semantify.measurements.conditional import Limit
        from semantify.measurements.human import human_ratios

        self.proportions = [limit for r in human_ratios() for limit in Limit.ratio(
            r.length, r.of, r.low + RATIO_MARGIN, r.high - RATIO_MARGIN)]

    def known(self, values: torch.Tensor, set_names: Sequence[str]):
        """(B, K) slider values -> (the set sliders' variables, (B, S) their values)."""
        index = [i for i, s in enumerate(self.sliders) if s.name in set_names]
        known = torch.as_tensor(values, dtype=torch.float64)[:, index].clone()
        for column, i in enumerate(index):
            found = self.phenotypes.get(self.sliders[i].name)
            if found is not None:
                known[:, column] = found.coefficient_value(known[:, column])
        return [self.variables[i] for i in index], known, self.scale[index]

    def limits(self, set_names: Sequence[str]) -> list:
        """What the most likely body must keep to: the set values inside their sliders'
        ranges, the free ones' predictions as far in from the ends as refinement lets them
        move (SOFT_HOLD: 2 cm / 2 kg), the proportions inside the human checks'."""
        from semantify.measurements.conditional import Limit

        return [*(Limit({s.name: 1.0}, s.low, s.high) if s.name in set_names else
                  Limit({s.name: 1.0}, s.low + SOFT_HOLD * _tolerance(s.name),
                        s.high - SOFT_HOLD * _tolerance(s.name))
                  for s in self.sliders if s.measurement is not None), *self.proportions]

    def typical(self, values: torch.Tensor, set_names: Sequence[str]) -> torch.Tensor:
        """(B,) whether people have each row's set values (the body model's typical region
        and :meth:`limits` leave them where they are)."""
        known, asked, scale = self.known(values, set_names)
        if not known:
            return torch.ones(len(values), dtype=torch.bool)
        moved = self.body.typical(known, asked, scale, self.limits(set_names))
        return ((moved - asked).abs() <= 1e-6 * scale).all(1)

    def predicted(self, values: torch.Tensor, set_names: Sequence[str],
                  toward_mean: float = 1.0) -> torch.Tensor:
        """(B, D) the body model's most likely variables given the set values (moved to the
        nearest typical ones when people lack them; then ``toward_mean`` of the way from the
        population's mean, 1 keeping them)."""
        known, asked, scale = self.known(values, set_names)
        target = self.body.typical(known, asked, scale, self.limits(set_names))
        if known and toward_mean != 1.0:
            mean = self.body.mean[self.body.index(known)]
            target = mean + toward_mean * (target - mean)
        return self.body.predict(known, target)

    def refiner(self, set_names: Sequence[str], strict: bool = False,
                loose: bool = False) -> MeasurementRefiner:
        """The refiner that meets the set measurements and holds the free ones (one per
        combination of set sliders, built once); ``strict`` holds the skeletal lengths as
        firmly as the set values are met (1 mm), for a body that failed a human check;
        ``loose`` lets the free girths and mass go (LOOSE_HOLD, LOOSE_PRIOR), for a body that
        missed a set value, with twice the steps (it starts far: 162.5 cm, 68.7 kg, waist 111.2
        took 19)."""
        key = (*(s.name for s in self.sliders if s.name in set_names), strict, loose)
        found = self._refiners.get(key)
        if found is None:
            fixed = {self.phenotypes[n].coefficient for n in key[:-2] if n in self.phenotypes}
            free = [n for n in (self.free or [self.model.coefficient_names[i]
                                              for i in self.model.refinable_indices])
                    if n not in fixed]
            targets = [n for n in key[:-2] if n not in self.phenotypes]
            hold = [n for n in self.measured if n not in targets]
            found = self._refiners[key] = MeasurementRefiner(
                self.model, self.anthropometer, targets, free,
                self.iterations * (2 if loose else 1), hold,
                1.0 if strict else HOLD, LOOSE_HOLD if loose else SOFT_HOLD,
                LOOSE_PRIOR if loose else PRIOR)
        return found

    def __call__(self, values: torch.Tensor, set_names: Sequence[str], refine: bool = True,
                 deadline: float | None = None) -> torch.Tensor:
        """(B, K) slider values, the names of the set ones -> (B, C) coefficients.

        A refined body that fails a human check (a proportion, a visible self-intersection)
        is refined again holding its skeletal lengths firmly, then, if it still fails, aimed
        at set values drawn RETREAT of the way back toward the population's mean, in turn. A
        body that misses set values people have is first refitted with its free girths let go
        (loose); set values no person has are left to the nearest person. Last, a free
        measurement past its slider's end is refitted at that end (:meth:`_inside`)."""
        if not refine or self.iterations < 1:
            return self._fit(values, set_names, False, deadline)
        refined = self._fit(values, set_names, True, deadline)
        built = self._built(refined)
        redo = self.missed(values, set_names, refined, built)
        if bool(redo.any()):
            redo[redo.clone()] = self.typical(values[redo], set_names)
            if bool(redo.any()):
                refined[redo] = self._fit(values[redo], set_names, True, deadline, loose=True)
                built = self._rebuilt(built, redo, refined)
        for strict, toward_mean in HUMAN_LADDER:
            redo = self.inhuman(refined, built)
            if not bool(redo.any()):
                break
            refined[redo] = self._fit(values[redo], set_names, True, deadline, strict,
                                      toward_mean)
            built = self._rebuilt(built, redo, refined)
        return self._inside(values, set_names, refined, built, deadline)

    def _inside(self, values: torch.Tensor, set_names: Sequence[str], refined: torch.Tensor,
                built: tuple, deadline: float | None) -> torch.Tensor:
        """``refined`` with every body whose free measurement left its slider's range (an
        impossible corner: 182.4 cm, 36.5 kg at build 1 gave 86.5 cm hips against 87.5)
        refitted with that measurement set just inside the slider's end (INSIDE_MARGIN), in
        turn plainly, holding its skeletal lengths firmly, then ever more toward the mean
        (INSIDE_LADDER), until the refit is a person with it inside. A value past its end by
        less than a miss keeps the set values as well met as before; one past by more lies
        beyond the survey's people, where the sliders end, so its set values are beyond
        people too: its refit may miss them, and the note names them (142.9 cm, 125.8 kg met
        both with a 155.0 cm waist against 153.5, and is now 145.8 cm, 120.1 kg, waist 145.5;
        185 cm, 45 kg, waist 80 kept hips 2.3 cm short of the slider)."""
        _, measured = built
        ends = [(i, s) for i, s in enumerate(self.sliders)
                if s.measurement is not None and s.name not in set_names]
        outside = {}
        for row in range(len(refined)):
            names = tuple(s.name for _, s in ends
                          if not s.low <= float(measured[s.name][row]) <= s.high)
            if names:
                outside.setdefault(names, []).append(row)
        for names, rows in outside.items():
            rows = torch.tensor(rows)
            pinned = values[rows].clone()
            for i, slider in ends:
                if slider.name in names:
                    margin = INSIDE_MARGIN * MET[slider.unit]
                    pinned[:, i] = measured[slider.name][rows].double().clamp(
                        slider.low + margin, slider.high - margin)
            before = self.shortfall(values[rows], set_names, refined[rows],
                                    (built[0][rows], {k: v[rows] for k, v in measured.items()}))
            far = self._past_ends(measured, rows, [s for _, s in ends if s.name in names]) > 1.0
            before[far] = math.inf  # beyond people: the sliders' ranges come first
            waiting = torch.arange(len(rows))
            for strict, toward_mean in INSIDE_LADDER:
                if not len(waiting):
                    break
                refit = self._fit(pinned[waiting], (*set_names, *names), True, deadline, strict,
                                  toward_mean)
                again = self._built(refit)
                good = ~self.inhuman(refit, again) & (
                    self.shortfall(values[rows[waiting]], set_names, refit, again)
                    <= before[waiting].clamp_min(1.0))
                for _, slider in ends:
                    if slider.name in names:
                        got = again[1][slider.name].double()
                        good &= (got >= slider.low) & (got <= slider.high)
                refined[rows[waiting[good]]] = refit[good]
                waiting = waiting[~good]
        return refined

    @staticmethod
    def _past_ends(measured: dict, rows: torch.Tensor, sliders: Sequence) -> torch.Tensor:
        """(R,) how far ``rows``' ``measured`` values lie past their ``sliders``' ends, in
        misses (5 mm / 1 kg)."""
        return torch.stack([torch.maximum(s.low - measured[s.name][rows].double(),
                                          measured[s.name][rows].double() - s.high)
                            .clamp_min(0.0) / MET[s.unit] for s in sliders], 1).amax(1)

    def _fit(self, values: torch.Tensor, set_names: Sequence[str], refine: bool,
             deadline: float | None, strict: bool = False,
             toward_mean: float = 1.0, loose: bool = False) -> torch.Tensor:
        predicted = self.predicted(values, set_names, toward_mean)
        refiner = self.refiner(set_names, strict, loose)
        coefficients = predicted[:, self.coefficient_index].float()
        coefficients = torch.minimum(torch.maximum(coefficients, refiner.low), refiner.high)
        if not refine:
            return coefficients
        column = {name: predicted[:, i].float() for i, name in enumerate(self.body.names)}
        return refiner(coefficients, {n: column[n] for n in refiner.names},
                       {n: column[n] for n in refiner.held}, deadline)

    def _built(self, coefficients: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """(B, C) coefficients -> their (B, V, 3) meshes and {name: (B,)} measurements."""
        with torch.no_grad():
            vertices = self.model(coefficients)
            return vertices, self.anthropometer.measure(vertices)

    def _rebuilt(self, built: tuple, rows: torch.Tensor, coefficients: torch.Tensor) -> tuple:
        """``built`` (a :meth:`_built`) with the (B,) ``rows`` built again from their new
        ``coefficients``; the other rows kept as they were."""
        vertices, measured = built
        new_vertices, new_measured = self._built(coefficients[rows])
        vertices = vertices.clone()
        vertices[rows] = new_vertices
        measured = {name: value.clone() for name, value in measured.items()}
        for name, value in new_measured.items():
            measured[name][rows] = value
        return vertices, measured

    def missed(self, values: torch.Tensor, set_names: Sequence[str],
               coefficients: torch.Tensor, built: tuple | None = None) -> torch.Tensor:
        """(B,) whether each body misses one of its (B, K) set ``values`` (measurements
        only) by more than 5 mm / 1 kg; ``built``: their :meth:`_built` when at hand."""
        return self.shortfall(values, set_names, coefficients, built) > 1.0

    def shortfall(self, values: torch.Tensor, set_names: Sequence[str],
                  coefficients: torch.Tensor, built: tuple | None = None) -> torch.Tensor:
        """(B,) each body's worst miss of its set measurements, in 5 mm / 1 kg (0: none set)."""
        index = [i for i, s in enumerate(self.sliders)
                 if s.name in set_names and s.measurement is not None]
        if not index:
            return torch.zeros(len(coefficients), dtype=torch.float64)
        _, measured = built or self._built(coefficients)
        got = torch.stack([measured[self.sliders[i].name].double().cpu() for i in index], 1)
        met = torch.tensor([MET[self.sliders[i].unit] for i in index], dtype=torch.float64)
        return ((got - values[:, index].double()).abs() / met).amax(1)

    def inhuman(self, coefficients: torch.Tensor, built: tuple | None = None) -> torch.Tensor:
        """(B,) whether each body fails a human check: a proportion, or a visible
        self-intersection; ``built``: their :meth:`_built` when at hand."""
        from semantify.measurements.human import inhuman
        from semantify.models.self_intersection import detector_for

        vertices, measured = built or self._built(coefficients)
        crossing = detector_for(self.model).visible(vertices.cpu().numpy())
        return torch.tensor([bool(failed) or bool(cross) for failed, cross
                             in zip(inhuman(measured), crossing)], dtype=torch.bool)

    def bands(self, values: torch.Tensor, set_names: Sequence[str]) -> list[tuple[float, float]]:
        """(K,) slider values -> per slider the range people with the other set values have
        (the typical region's, :data:`semantify.measurements.conditional.LEVEL_Z` conditional
        standard deviations about the most likely value), within the slider's own range."""
        from semantify.measurements.conditional import LEVEL_Z

        known, asked, _ = self.known(values[None], set_names)
        out = []
        for slider, variable in zip(self.sliders, self.variables):
            low, high = self.body.interval(known, asked[0], variable, LEVEL_Z)
            found = self.phenotypes.get(slider.name)
            if found is not None:
                low, high = sorted(float(found.slider_value(torch.tensor(x))) for x in (low, high))
            low = min(max(low, slider.low), slider.high)
            out.append((low, min(max(high, low), slider.high)))
        return out

    def expected(self, values: torch.Tensor, set_names: Sequence[str]) -> torch.Tensor:
        """(B, K) slider values -> (B, K) those of the most likely person with the set ones
        (what refinement aims at; no mesh is built): a drag's free sliders before refining."""
        predicted = self.predicted(torch.as_tensor(values, dtype=torch.float64), set_names)
        out = predicted[:, self.body.index(self.variables)]
        for i, slider in enumerate(self.sliders):
            found = self.phenotypes.get(slider.name)
            if found is not None:
                out[:, i] = found.slider_value(out[:, i])
        return out

    def describe(self, coefficients: torch.Tensor) -> torch.Tensor:
        """(B, C) coefficients -> (B, K) the slider values of their bodies: each measurement
        slider's measurement, each phenotype slider's coefficient."""
        with torch.no_grad():
            measured = self.anthropometer.measure(self.model(coefficients))
        names = self.model.coefficient_names
        return torch.stack([
            self.phenotypes[s.name].slider_value(coefficients[:, names.index(
                self.phenotypes[s.name].coefficient)]).double() if s.measurement is None
            else measured[s.name].double() for s in self.sliders], 1)

    def outcome(self, values: torch.Tensor, set_names: Sequence[str], coefficients: torch.Tensor,
                vertices) -> tuple[tuple[float, ...], tuple[str, ...]]:
        """What a shape shows for (K,) asked ``values``: per slider the asked value when set,
        the body's own when free (its measurement, or its phenotype's coefficient); and a
        note naming every set measurement the body misses (beyond 5 mm / 1 kg), asked
        against got, or ()."""
        with torch.no_grad():
            measured = self.anthropometer.measure(torch.as_tensor(vertices)[None])
        names = self.model.coefficient_names
        shown, misses = [], []
        for slider, asked in zip(self.sliders, values.tolist()):
            found = self.phenotypes.get(slider.name)
            got = float(found.slider_value(coefficients[names.index(found.coefficient)])
                        if found else measured[slider.name][0])
            if slider.name not in set_names:
                shown.append(got)
                continue
            shown.append(float(asked))
            if found is None and not abs(got - asked) <= MET[slider.unit]:
                misses.append(f"{slider.label} asked {asked:.1f}, got {got:.1f}")
        note = (f"Set values not met (the body is the nearest person): {'; '.join(misses)}.",)
        return tuple(shown), note if misses else ()
