"""CLIP, wrapped: which model (:class:`ClipSpec`), embeddings (:class:`ClipScorer`) and scores.

Any open_clip architecture and pretrained tag works, or a local checkpoint (``--clip-checkpoint
PATH``, a weights file or a directory with ``open_clip_config.json``), which loads offline.

The default is ``ViT-B-32`` with the ``laion2b_s34b_b79k`` weights: trained on open data
(LAION-2B), they score better zero-shot on ImageNet than OpenAI's ViT-B-32 weights (about 66%
against 63% top-1) at the same cost, which fits CPU use. ``tiny-random`` is a two-layer
open_clip model with seeded random weights, registered as ``semantify-tiny-random-NOT-SEMANTIC``:
it runs the real code fast in tests and benchmarks, and its scores mean nothing.

open_clip is imported lazily (after :func:`semantify.compat.ensure_torchvision`), the first
time a model is loaded, so importing this package stays fast.
"""

from semantify.clip.loading import check_weights_reachable, fetch_weights, weights_cached
from semantify.clip.prompts import TEMPLATES, template_for
from semantify.clip.scorer import ClipScorer, clear_cache, default_device, load_clip
from semantify.clip.similarity import scores
from semantify.clip.spec import TINY_RANDOM, TINY_RANDOM_NAME, ClipSpec

__all__ = ["TEMPLATES", "TINY_RANDOM", "TINY_RANDOM_NAME", "ClipScorer", "ClipSpec",
           "check_weights_reachable", "clear_cache", "default_device", "fetch_weights", "load_clip",
           "scores", "template_for", "weights_cached"]
