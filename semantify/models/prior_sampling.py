"""Drawing from a :class:`~semantify.models.prior.Prior`: candidates per (seed, index,
attempt), rejection of visible self-intersections, and the prior's per-coefficient spread and
support (used by metric refinement)."""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
from collections.abc import Sequence

import numpy as np
import torch

from semantify.errors import SemantifyError
from semantify.models.prior import SIDE, Draw, Group, Prior


class BoundPrior:
    """A :class:`Prior` resolved against one model: patterns turned into coefficient indices."""

    def __init__(self, prior: Prior, model):
        self.prior, self.model = prior, model
        self.names = list(model.coefficient_names)
        self.low = np.array([c.low for c in model.coefficients], dtype=np.float64)
        self.high = np.array([c.high for c in model.coefficients], dtype=np.float64)
        self.default = np.array([c.default for c in model.coefficients], dtype=np.float64)
        self.steps = [self._resolve(g, i + 1) for i, g in enumerate(prior.groups)]
        self.exclusive = [(self._match(a, "exclusive"), self._match(b, "exclusive"))
                          for a, b in prior.exclusive]

    def _match(self, pattern: str, where) -> np.ndarray:
        """Indices of the coefficients ``pattern`` names (``a|b``: either; each part must
        match at least one coefficient)."""
        found = []
        for part in pattern.split("|"):
            hits = [i for i, n in enumerate(self.names) if fnmatch.fnmatchcase(n, part)]
            if not hits:
                raise SemantifyError(
                    f"prior {self.prior.name} ({where}): unknown coefficient {part!r} for "
                    f"{self.model.id}; see `semantify models {self.model.id}` for its names.")
            found += hits
        return np.unique(np.array(found, dtype=np.int64))

    def _check_draw(self, draw: Draw, columns: np.ndarray, where: str) -> None:
        low, high = draw.bounds
        if high < self.low[columns].min() or low > self.high[columns].max():
            raise SemantifyError(
                f"prior {self.prior.name} ({where}): impossible range [{low:g}, {high:g}]: "
                f"outside {self.names[columns[0]]}'s [{self.low[columns[0]]:g}, "
                f"{self.high[columns[0]]:g}].")

    def _resolve(self, group: Group, number: int):
        where = f"group {number}"
        if group.kind == "mixture":
            components = []
            for name, probability, values in group.components:
                resolved = []
                for pattern, draw in values:
                    columns = self._match(pattern, f"{where} {name}")
                    self._check_draw(draw, columns, f"{where} {name} {pattern}")
                    resolved.append((columns, draw))
                components.append((probability, resolved))
            weights = np.array([p for p, _ in components])
            return group, (np.cumsum(weights / weights.sum()), components)
        if group.kind == "factor":
            return group, [(self._match(p, where), w) for p, w in group.loadings]
        columns = np.unique(np.concatenate([self._match(p, where) for p in group.patterns]))
        if group.exclude:
            dropped = np.concatenate([self._match(p, f"{where} exclude") for p in group.exclude])
            columns = np.setdiff1d(columns, dropped)
        if group.kind == "independent":
            self._check_draw(group.draw, columns, where)
            return group, columns
        units: dict[str, list[int]] = {}
        for i in columns.tolist():
            key = SIDE.sub("", self.names[i]) if group.tied_sides else self.names[i]
            units.setdefault(key, []).append(i)
        return group, [np.array(u) for u in units.values()]

    def draw_row(self, rng: np.random.Generator) -> np.ndarray:
        """(C,) float64 one candidate row."""
        row = self.default.copy()
        for group, data in self.steps:
            if group.kind == "independent":
                row[data] = [group.draw(rng) for _ in data]
            elif group.kind == "mixture":
                cumulative, components = data
                pick = int(np.searchsorted(cumulative, rng.random(), side="right"))
                for columns, draw in components[min(pick, len(components) - 1)][1]:
                    row[columns] = draw(rng)
            elif group.kind == "factor":
                z = group.draw(rng)
                for columns, weight in data:
                    row[columns] += weight * z
            else:
                count = int(rng.integers(group.count[0], group.count[1] + 1))
                chosen = rng.choice(len(data), size=min(count, len(data)), replace=False)
                for unit in chosen.tolist():
                    row[data[unit]] += group.draw(rng)
        for first, second in self.exclusive:
            a = np.abs(row[first] - self.default[first]).max()
            b = np.abs(row[second] - self.default[second]).max()
            if a > 0 and b > 0:
                weaker = second if b <= a else first
                row[weaker] = self.default[weaker]
        return np.clip(row, self.low, self.high)

    def candidates(self, indices: Sequence[int], seed: int, attempt: int) -> torch.Tensor:
        """(N, C) float32 candidate ``attempt`` of each sample index."""
        rows = [self.draw_row(np.random.default_rng([int(seed), int(i), int(attempt)]))
                for i in indices]
        return torch.tensor(np.array(rows).reshape(-1, len(self.names)), dtype=torch.float32)

    def sample(self, indices: Sequence[int] | torch.Tensor, seed: int) -> torch.Tensor:
        """(N, C) float32: per index the first candidate without a visible self-intersection
        (after ``max_tries``, the candidate with the shallowest one)."""
        return self.sample_with_stats(indices, seed)[0]

    def sample_with_stats(self, indices: Sequence[int] | torch.Tensor,
                          seed: int) -> tuple[torch.Tensor, SamplingStats]:
        """:meth:`sample`, and how many candidates it drew and rejected."""
        indices = [int(i) for i in torch.as_tensor(indices).reshape(-1).tolist()]
        out = self.candidates(indices, seed, 0)
        if not self.prior.reject_self_intersections or not indices:
            return out, SamplingStats(len(indices), 0, 0)
        from semantify.models.self_intersection import detector_for

        detector = detector_for(self.model)
        best_depth = np.full(len(indices), np.inf)
        pending = np.arange(len(indices))
        candidates, drawn, rejected = out, 0, 0
        for attempt in range(self.prior.max_tries):
            if attempt:
                candidates = self.candidates([indices[k] for k in pending], seed, attempt)
            with torch.no_grad():
                vertices = self.model(candidates).cpu().numpy()
            still = []
            for row, k in enumerate(pending.tolist()):
                found = detector.check(vertices[row])
                if found.depth < best_depth[k]:
                    best_depth[k], out[k] = found.depth, candidates[row]
                if found.visible:
                    still.append(k)
            drawn, rejected = drawn + len(pending), rejected + len(still)
            pending = np.array(still, dtype=np.int64)
            if not len(pending):
                break
        return out, SamplingStats(drawn, rejected, len(pending))


@dataclasses.dataclass(frozen=True)
class SamplingStats:
    """Candidates drawn, how many had a visible self-intersection, and how many samples kept
    one after every try (the least intersecting candidate is kept)."""

    drawn: int
    rejected: int
    unresolved: int

    @property
    def rejection_rate(self) -> float:
        return self.rejected / max(self.drawn, 1)


def coefficient_spread(prior: Prior, model, samples: int = 2000) -> np.ndarray:
    """(C,) float64 standard deviation of each coefficient under ``prior`` (candidates before
    rejection, seed 0), floored at 2% of the coefficient's range: how far the prior lets it
    move, for metric refinement's prior term."""
    return _statistics(prior, model, samples)[0]


def coefficient_support(prior: Prior, model, samples: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """(C,), (C,) float64 the lowest and highest value ``prior`` draws for each coefficient
    (from the same draws), widened by the spread floor and kept inside the model's ranges:
    the box metric refinement stays in, so a body is pulled only where the prior goes."""
    _, low, high = _statistics(prior, model, samples)
    return low, high


@functools.lru_cache(maxsize=16)
def _statistics(prior: Prior, model, samples: int) -> tuple[np.ndarray, ...]:
    if prior.fallback:
        from semantify.models.sampling import sample_coefficients

        rows = sample_coefficients(model.distribution, model.coefficients, range(samples), 0)
    else:
        rows = prior.bind(model).candidates(range(samples), 0, 0)
    rows = rows.double().numpy()
    ranges = model.ranges.double().numpy()
    floor = 0.02 * (ranges[:, 1] - ranges[:, 0])
    spread = np.maximum(rows.std(axis=0), floor)
    low = np.maximum(rows.min(axis=0) - floor, ranges[:, 0])
    high = np.minimum(rows.max(axis=0) + floor, ranges[:, 1])
    return spread, low, high
