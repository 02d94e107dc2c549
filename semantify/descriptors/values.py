"""The value of each descriptor for each sample: a measurement column or a CLIP score."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from semantify.data.dataset import Dataset
from semantify.errors import SemantifyError
from semantify.measurements.registry import is_measurement, looks_like_measurement


def split_descriptors(dataset: Dataset, descriptors: Sequence[str]) -> tuple[list[str], list[str]]:
    """(measurement names, CLIP words), in input order; the measurement registry decides
    which is which. A measurement the dataset lacks is a one-line error listing the ones it
    has.
    """
    available = dataset.measurement_names
    metrics, words = [], []
    for name in descriptors:
        if is_measurement(name) and name in available:
            metrics.append(name)
        elif is_measurement(name) or looks_like_measurement(name):
            have = ", ".join(available) if available else "none (generated without measurements)"
            raise SemantifyError(f"measurement {name!r} is not in {dataset.root}; available: "
                                 f"{have}.")
        else:
            words.append(name)
    return metrics, words


def load_scorer(dataset: Dataset):
    """The CLIP scorer that embedded ``dataset``'s images, or a one-line error if it has none."""
    if dataset.image_embeds is None or not dataset.clip:
        metrics = ", ".join(dataset.measurement_names) or "none"
        raise SemantifyError(
            f"dataset {dataset.root} has no CLIP embeddings (generated with --clip none); use "
            f"metric descriptors (available: {metrics}) or regenerate with --clip.")
    from semantify.clip import ClipSpec, load_clip

    return load_clip(ClipSpec.from_dict(dataset.clip))


def descriptor_values(dataset: Dataset, descriptors: Sequence[str], scorer=None,
                      template: str | None = None) -> torch.Tensor:
    """(N, K) float32: each descriptor's value per sample, in ``descriptors`` order.

    A name in ``dataset.measurement_names`` takes that measurement column; any other is a CLIP
    word scored as 100·cos(image, text) averaged over views, with ``template`` (a template
    name such as ``bare``, or text with one ``{}``; default: the dataset family's template).
    ``scorer`` defaults to the one named in the manifest.
    """
    metrics, words = split_descriptors(dataset, descriptors)
    columns: dict[str, torch.Tensor] = {}
    if metrics:
        index = [dataset.measurement_names.index(name) for name in metrics]
        for name, column in zip(metrics, dataset.measurements[:, index].float().T):
            columns[name] = column
    if words:
        if scorer is None:
            scorer = load_scorer(dataset)
        elif dataset.image_embeds is None:
            load_scorer(dataset)  # raises the "no CLIP embeddings" error
        from semantify.clip import scores, template_for

        text = scorer.encode_text(list(words), template_for(dataset.family, template))
        for name, column in zip(words, scores(dataset.image_embeds, text).T):
            columns[name] = column
    return torch.stack([columns[name] for name in descriptors], dim=1).contiguous()
