"""Descriptor selection on a generated dataset: its values, the words' text embeddings for the
synonym filter, the choice and its report (shared by `semantify select` and `semantify build`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from semantify.data.dataset import Dataset
from semantify.descriptors.report import write_report
from semantify.descriptors.selection import Selection, select_descriptors
from semantify.descriptors.values import descriptor_values, load_scorer, split_descriptors


def select_on_dataset(dataset: Dataset, names: Sequence[str], max_k: int,
                      template: str | None = None, forced: Sequence[str] = (),
                      out: Path | str | None = None, **options) -> tuple[Selection, torch.Tensor]:
    """Choose up to ``max_k`` of ``names`` for ``dataset``; return the selection and the (N, K)
    candidate values. ``options`` go to :func:`select_descriptors` (max_corr, min_gain, ...).

    With ``out``, the report (selection.json, selection.md, correlation.png) is written there.
    Word similarity (the synonym filter) is used only when the dataset's CLIP is semantic.
    """
    names = list(names)
    _, words = split_descriptors(dataset, names)
    scorer = load_scorer(dataset) if words else None
    values = descriptor_values(dataset, names, scorer=scorer, template=template)
    text_embeds = None
    if scorer is not None and scorer.spec.is_semantic:
        # Word-level similarity of the bare descriptors; metrics get zero rows (never similar).
        word_embeds = dict(zip(words, scorer.encode_text(words, "{}")))
        zero = torch.zeros(scorer.embed_dim)
        text_embeds = torch.stack([word_embeds.get(name, zero) for name in names])
    selection = select_descriptors(values, names, dataset.coefficients, max_k=max_k,
                                   text_embeds=text_embeds, forced=forced, **options)
    if out is not None:
        metadata = {"dataset": str(dataset.root), "model": dataset.model_id,
                    "samples": len(dataset),
                    "clip": scorer.spec.label if scorer is not None else None}
        write_report(selection, out, values, names, metadata)
    return selection, values
