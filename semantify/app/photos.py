"""Photo to shape: CLIP scores of the photos are the inputs of the CLIP sliders."""

from __future__ import annotations

import numpy as np
import torch

from semantify.app import resources, view
from semantify.errors import SemantifyError


def scorer_for(key: str):
    """The slider set of entry ``key`` and its CLIP scorer, or a one-line error."""
    from semantify.clip import ClipSpec

    entry = view.panel(key).entry
    if entry.sliders is None:
        raise SemantifyError("raw coefficients have no CLIP sliders; pick a slider set, or "
                             "build one in the Build sliders tab.")
    sliders = resources.slider_set(entry.sliders)
    if sliders.clip is None:
        raise SemantifyError("this slider set is metric only (no CLIP); pick or build a set "
                             "with CLIP descriptors to fit photos or words.")
    return sliders, resources.clip(ClipSpec.from_dict(sliders.clip))


def clip_slots(key: str) -> list[int]:
    """Indices of the sliders that are CLIP words (metric sliders have a unit)."""
    return [k for k, c in enumerate(view.panel(key).controls) if not c.unit]


def word_embeds(key: str) -> torch.Tensor:
    """(K_clip, D) text embeddings of the CLIP sliders' words in the set's template."""
    from semantify.clip import template_for

    sliders, scorer = scorer_for(key)
    words = [view.panel(key).controls[k].name for k in clip_slots(key)]
    template = template_for(resources.model(sliders.model_id).family, sliders.template)
    return scorer.encode_text(words, template)


def values_from_embeds(key: str, embeds: torch.Tensor, current) -> list[float]:
    """Slider values whose CLIP sliders are the mean scores of ``embeds`` (N, D); metric
    sliders keep their ``current`` values."""
    from semantify.clip import scores

    mean = scores(embeds, word_embeds(key)).mean(0)
    values = list(current)
    for k, score in zip(clip_slots(key), mean.tolist()):
        values[k] = score
    return view.panel(key).clip_values(values)


def fit_photos(key: str, photos, current) -> list[float]:
    """Slider values fitted to PIL ``photos`` (each letterboxed by the scorer), averaged."""
    if not photos:
        raise SemantifyError("no photo to fit; upload a JPEG, PNG or WebP photo first.")
    _, scorer = scorer_for(key)
    embeds = torch.stack([scorer.encode_photo(photo) for photo in photos])
    return values_from_embeds(key, embeds, current)


def letterboxed(photo, size: int = resources.RENDER_SIZE) -> np.ndarray:
    """(size, size, 3) uint8: the whole photo padded to a square, as CLIP sees it."""
    from semantify.clip.images import prepare_photo

    return prepare_photo(photo, size)
