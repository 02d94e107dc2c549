"""CLIP scores of images against descriptors, from stored embeddings."""

from __future__ import annotations

import torch

from semantify.errors import SemantifyError

REDUCTIONS = ("mean", "max", "none")


def scores(image_embeds: torch.Tensor, text_embeds: torch.Tensor,
           reduce: str = "mean") -> torch.Tensor:
    """100 x cosine similarity of each sample's views with each descriptor.

    ``image_embeds`` (N, V, D) or (N, D) (one view), any float dtype; ``text_embeds`` (K, D).
    Returns float32 (N, K), the per-view scores averaged over the V views (``reduce="mean"``,
    as the paper does) or their maximum (``"max"``); ``"none"`` keeps them: (N, V, K).
    Embeddings are normalised here, so unnormalised inputs are fine.
    """
    if reduce not in REDUCTIONS:
        raise SemantifyError(f"unknown score reduction {reduce!r}; use one of "
                             f"{', '.join(REDUCTIONS)}.")
    image = torch.as_tensor(image_embeds).to(torch.float32)
    text = torch.as_tensor(text_embeds).to(device=image.device, dtype=torch.float32)
    if image.ndim == 2:
        image = image[:, None]
    if image.ndim != 3 or text.ndim != 2 or image.shape[-1] != text.shape[-1]:
        raise SemantifyError(
            f"cannot score image embeddings of shape {tuple(image.shape)} against text "
            f"embeddings of shape {tuple(text.shape)}; expected (N, V, D) and (K, D) from the "
            "same CLIP model.")
    image = torch.nn.functional.normalize(image, dim=-1)
    text = torch.nn.functional.normalize(text, dim=-1)
    per_view = 100.0 * image @ text.T  # (N, V, K)
    if reduce == "mean":
        return per_view.mean(dim=1)
    if reduce == "max":
        return per_view.amax(dim=1)
    return per_view
