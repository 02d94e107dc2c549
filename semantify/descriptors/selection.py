"""Automatic choice of a few meaningful, disentangled descriptors (no human in the loop).

Greedy forward selection: each step adds the candidate that most raises the validation R² of a
ridge regression from the chosen descriptors' values to the model coefficients, and drops the
candidates that conflict with it (antonym, near-synonym by CLIP text embedding, or |r| above a
threshold). It stops at ``max_k`` words or when the best gain falls below ``min_gain``. The
reference's heuristic (greedy by variance under the same conflict rules) is scored alongside as
a baseline, both on a test split neither method saw.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import torch

from semantify.descriptors.ridge import DEFAULT_LAMBDAS, HeldOutRidge, split_indices
from semantify.descriptors.vocabulary import are_antonyms, descriptor_key
from semantify.errors import SemantifyError

MIN_SAMPLES = 20


@dataclasses.dataclass
class Baseline:
    """The reference heuristic's choice: by decreasing variance, skipping conflicting words."""

    chosen: list[str]
    r2: float             # test R²
    r2_validation: float


@dataclasses.dataclass
class Selection:
    """Chosen descriptors in order, why each other candidate was dropped, and the R² figures."""

    chosen: list[str]
    rejected: dict[str, str]
    r2_steps: list[float]  # validation R² after each chosen word
    r2: float              # test R² of the chosen set (held out from training and selection)
    baseline: Baseline
    settings: dict


def correlation_matrix(values: torch.Tensor) -> torch.Tensor:
    """(K, K) float64 Pearson r between the columns of ``values`` (N, K); 0 for constants."""
    x = values.double() - values.double().mean(0)
    norm = x.norm(dim=0)
    x = x / torch.where(norm > 0, norm, torch.ones_like(norm))
    corr = x.T @ x
    corr.diagonal().copy_((norm > 0).double())
    return corr


def text_similarity(text_embeds: torch.Tensor | None, k: int) -> torch.Tensor:
    """(K, K) cosine between descriptor text embeddings (K, D); zero rows (metrics) give 0."""
    if text_embeds is None:
        return torch.zeros(k, k, dtype=torch.float64)
    e = text_embeds.double()
    e = e / e.norm(dim=1, keepdim=True).clamp_min(1e-12)
    return e @ e.T


def _check(values: torch.Tensor, names: Sequence[str], coefficients: torch.Tensor, max_k: int,
           max_corr: float, text_embeds: torch.Tensor | None) -> None:
    n, k = values.shape
    if len(names) != k:
        raise SemantifyError(f"{len(names)} names for {k} value columns; pass one name per "
                             "column.")
    if len({descriptor_key(name) for name in names}) != k:
        raise SemantifyError("duplicate descriptor names; list each descriptor once.")
    if coefficients.shape[0] != n:
        raise SemantifyError(f"{n} rows of values but {coefficients.shape[0]} of coefficients; "
                             "compute the values on the same dataset.")
    if n < MIN_SAMPLES:
        raise SemantifyError(f"only {n} samples; selection needs at least {MIN_SAMPLES} "
                             "(generate more with `semantify generate --samples`).")
    if not 1 <= max_k <= k:
        raise SemantifyError(f"cannot choose {max_k} descriptors from {k} candidates; pass "
                             f"--max between 1 and {k} or add candidates.")
    if not 0 < max_corr <= 1:
        raise SemantifyError(f"--max-corr {max_corr} must be in (0, 1].")
    if not torch.isfinite(values).all():
        bad = [names[i] for i in (~torch.isfinite(values)).any(0).nonzero().flatten().tolist()]
        raise SemantifyError(f"descriptor values are not finite for {', '.join(bad)}; "
                             "check the dataset or drop those descriptors.")
    if text_embeds is not None and text_embeds.shape[0] != k:
        raise SemantifyError(f"{text_embeds.shape[0]} text embeddings for {k} descriptors.")


class _Conflicts:
    """Why candidate ``i`` may not sit beside chosen ``j``, or None when it may."""

    def __init__(self, names, corr, similarity, max_corr, synonym_threshold):
        self.names, self.corr, self.similarity = names, corr, similarity
        self.max_corr, self.synonym_threshold = max_corr, synonym_threshold

    def reason(self, i: int, j: int) -> str | None:
        other = self.names[j]
        if are_antonyms(self.names[i], other):
            return f"antonym of {other}"
        if self.similarity[i, j] > self.synonym_threshold:
            return f"near-synonym of {other} (text cos {self.similarity[i, j]:.2f})"
        if abs(self.corr[i, j]) > self.max_corr:
            return f"correlated with {other} (r={self.corr[i, j]:.2f})"
        return None

    def first(self, i: int, chosen: Sequence[int]) -> str | None:
        return next((r for j in chosen if (r := self.reason(i, j)) is not None), None)


def select_descriptors(values: torch.Tensor, names: Sequence[str], coefficients: torch.Tensor,
                       max_k: int = 6, max_corr: float = 0.6, min_gain: float = 0.005,
                       text_embeds: torch.Tensor | None = None, synonym_threshold: float = 0.9,
                       lambdas: Sequence[float] = DEFAULT_LAMBDAS, seed: int = 0,
                       forced: Sequence[str] = ()) -> Selection:
    """Choose up to ``max_k`` of the K candidates whose values (N, K) best predict ``coefficients``
    (N, C) while staying disentangled.

    ``text_embeds`` (K, D), optional: CLIP text embeddings of the candidates (zero rows for
    metric descriptors); pairs above ``synonym_threshold`` cosine count as near-synonyms.
    ``forced`` names candidates chosen first, in that order, whatever their gain or conflicts
    (a hand-curated start, as the reference's shipped sets had); the rest are chosen greedily
    beside them. At least one descriptor is always chosen.
    """
    names = list(names)
    _check(values, names, coefficients, max_k, max_corr, text_embeds)
    keys = [descriptor_key(name) for name in names]
    missing = [word for word in forced if descriptor_key(word) not in keys]
    if missing:
        raise SemantifyError(f"forced descriptor {missing[0]!r} is not a candidate; add it to "
                             "the candidates.")
    forced_rows = list(dict.fromkeys(keys.index(descriptor_key(word)) for word in forced))
    if len(forced_rows) > max_k:
        raise SemantifyError(f"{len(forced_rows)} forced descriptors but at most {max_k} may be "
                             "chosen; force fewer or raise the count.")
    std = values.double().std(0)
    varying = [i for i in range(len(names))
               if std[i] > 1e-9 * (1 + values[:, i].double().abs().mean())]
    rejected = {names[i]: "constant over the data (std 0)" for i in range(len(names))
                if i not in varying and i not in forced_rows}
    if not varying and not forced_rows:
        raise SemantifyError("every candidate is constant over the data; choose other "
                             "descriptors.")
    splits = split_indices(values.shape[0], seed=seed)
    ridge = HeldOutRidge(values, coefficients, splits, lambdas)
    conflicts = _Conflicts(names, correlation_matrix(values), text_similarity(
        text_embeds, len(names)), max_corr, synonym_threshold)

    pool = [i for i in varying if i not in forced_rows]
    chosen: list[int] = []
    r2_steps: list[float] = []
    for i in forced_rows:
        chosen.append(i)
        r2_steps.append(float(ridge.r2(torch.tensor([chosen], dtype=torch.long))[0]))
        for j in list(pool):
            if (reason := conflicts.reason(j, i)) is not None:
                rejected[names[j]] = reason
                pool.remove(j)
    current = (r2_steps[-1] if chosen
               else float(ridge.r2(torch.zeros(1, 0, dtype=torch.long))[0]))
    while pool:
        if len(chosen) == max_k:
            rejected.update({names[i]: "not better than chosen ones" for i in pool})
            break
        subsets = torch.tensor([chosen + [i] for i in pool], dtype=torch.long)
        gains = ridge.r2(subsets)[0] - current
        best = int(gains.argmax())
        if chosen and gains[best] < min_gain:
            rejected.update({names[i]: f"adds < {min_gain:g} R² (+{max(float(g), 0):.4f})"
                             for i, g in zip(pool, gains)})
            break
        new = pool.pop(best)
        chosen.append(new)
        current += float(gains[best])
        r2_steps.append(current)
        for i in list(pool):
            if (reason := conflicts.reason(i, new)) is not None:
                rejected[names[i]] = reason
                pool.remove(i)

    baseline = _variance_baseline(std, forced_rows, varying, max_k, conflicts)
    r2, r2_val = _test_r2(ridge, chosen)
    b_r2, b_val = _test_r2(ridge, baseline)
    return Selection(
        chosen=[names[i] for i in chosen], rejected=rejected, r2_steps=r2_steps, r2=r2,
        baseline=Baseline([names[i] for i in baseline], b_r2, b_val),
        settings={"max_k": max_k, "max_corr": max_corr, "min_gain": min_gain,
                  "forced": [names[i] for i in forced_rows],
                  "synonym_threshold": synonym_threshold if text_embeds is not None else None,
                  "lambdas": list(lambdas), "seed": seed,
                  "split": dict(zip(("train", "validation", "test"), ridge.sizes))})


def _variance_baseline(std: torch.Tensor, forced: list[int], candidates: list[int],
                       max_k: int, conflicts: _Conflicts) -> list[int]:
    """The reference heuristic: the forced words, then by decreasing variance, keep words
    without a conflict."""
    kept: list[int] = list(forced)
    for i in sorted((i for i in candidates if i not in forced), key=lambda i: -float(std[i])):
        if len(kept) == max_k:
            break
        if conflicts.first(i, kept) is None:
            kept.append(i)
    return kept


def _test_r2(ridge: HeldOutRidge, subset: list[int]) -> tuple[float, float]:
    """(test R², validation R²) of one subset, its ridge lambda picked on validation."""
    rows = torch.tensor([subset], dtype=torch.long)
    validation, lam = ridge.r2(rows, "validation")
    return float(ridge.r2(rows, "test", lam)[0]), float(validation)
