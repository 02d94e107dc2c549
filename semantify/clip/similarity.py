"""CLIP scores of images against descriptors, from stored embeddings."""

from __future__ import annotations

import torch

from semantify.errors import SemantifyError

REDUCTIONS = ("mean", "max", "none")
CHUNK_ROWS = 16384  # samples scored at once: bounds the float32 copies (~64 MB for 2x512-d)


def scores(image_embeds: torch.Tensor, text_embeds: torch.Tensor,
           reduce: str = "mean") -> torch.Tensor:
    """100 x cosine similarity of each sample's views with each descriptor.

    ``image_embeds`` (N, V, D) or (N, D) (one view), any float dtype; ``text_embeds`` (K, D).
    Returns float32 (N, K), the per-view scores averaged over the V views (``reduce="mean"``,
    as the paper does) or their maximum (``"max"``); ``"none"`` keeps them: (N, V, K).
    Embeddings are normalised here, so unnormalised inputs are fine. Rows are scored in chunks
    of :data:`CHUNK_ROWS`, so memory beyond the (N, K) result does not grow with N.
    """
    if reduce not in REDUCTIONS:
        raise SemantifyError(f"unknown score reduction {reduce!r}; use one of "
                             f"{', '.join(REDUCTIONS)}.")
    image_embeds = torch.as_tensor(image_embeds)
    image = image_embeds[:, None] if image_embeds.ndim == 2 else image_embeds  # a view
    text = torch.as_tensor(text_embeds).to(device=image.device, dtype=torch.float32)
    if image.ndim != 3 or text.ndim != 2 or image.shape[-1] != text.shape[-1]:
        raise SemantifyError(
            f"cannot score image embeddings of shape {tuple(image.shape)} against text "
            f"embeddings of shape {tuple(text.shape)}; expected (N, V, D) and (K, D) from the "
            "same CLIP model.")
    text = torch.nn.functional.normalize(text, dim=-1)
    n, v, k = image.shape[0], image.shape[1], text.shape[0]
    out = torch.empty((n, v, k) if reduce == "none" else (n, k), device=image.device)
    for start in range(0, n, CHUNK_ROWS):  # float32 copies of one chunk at a time
        chunk = torch.nn.functional.normalize(
            image[start:start + CHUNK_ROWS].to(torch.float32), dim=-1)
        per_view = 100.0 * chunk @ text.T  # (n, V, K)
        if reduce == "mean":
            per_view = per_view.mean(dim=1)
        elif reduce == "max":
            per_view = per_view.amax(dim=1)
        out[start:start + CHUNK_ROWS] = per_view
    return out
