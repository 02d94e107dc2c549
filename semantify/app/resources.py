"""Per-process caches of immutable, expensive things: models, renderers, slider sets, CLIP.

Nothing here is built at import; each is built on first use and then shared by every session
(they are read-only, and the renderer locks itself).
"""

from __future__ import annotations

import functools

RENDER_SIZE = 512


@functools.lru_cache(maxsize=8)
def model(model_id: str):
    from semantify.models import load_model

    return load_model(model_id)


@functools.lru_cache(maxsize=8)
def renderer(model_id: str):
    from semantify.rendering import interactive_renderer

    return interactive_renderer(model(model_id), size=RENDER_SIZE)


@functools.lru_cache(maxsize=8)
def anthropometer(model_id: str):
    """The model's measurer, or None when it has no landmarks (faces, animals, ...)."""
    from semantify.measure import Anthropometer, has_landmarks

    loaded = model(model_id)
    return Anthropometer.for_model(loaded) if has_landmarks(loaded) else None


@functools.lru_cache(maxsize=32)
def slider_set(folder: str):
    from semantify.sliders import SliderSet

    return SliderSet.load(folder)


@functools.lru_cache(maxsize=4)
def clip(spec):
    """A ClipScorer for a ``ClipSpec``; loading errors are one-line SemantifyErrors."""
    from semantify.clip import load_clip

    return load_clip(spec)
