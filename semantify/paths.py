"""Where Semantify keeps its files: one cache root, and the folders under it.

Everything Semantify writes on its own account (text embeddings, slider sets built in the app,
per-session temporary files, licensed model files by default) lives under :func:`cache_root`,
``$SEMANTIFY_CACHE_DIR`` or ``~/.cache/semantify``. Anny keeps its own cache in
``$ANNY_CACHE_DIR``. Paths are read from the environment on every call, so tests and servers
can point them elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV = "SEMANTIFY_CACHE_DIR"
DEFAULT = "~/.cache/semantify"


def cache_root() -> Path:
    """The absolute cache root: ``$SEMANTIFY_CACHE_DIR``, else ``~/.cache/semantify``."""
    return Path(os.environ.get(ENV) or DEFAULT).expanduser().absolute()


def text_embeddings_dir() -> Path:
    """Cached CLIP text embeddings (:mod:`semantify.clip.text_cache`)."""
    return cache_root() / "clip-text"


def built_sets_dir() -> Path:
    """Slider sets built or extended in the app."""
    return cache_root() / "sliders"


def sessions_dir() -> Path:
    """Per-session temporary folders of the app (exports, animations, uploads)."""
    return cache_root() / "sessions"


def default_models_dir() -> Path:
    """Licensed model files, unless ``$SEMANTIFY_MODELS_DIR`` says otherwise."""
    return cache_root() / "models"
