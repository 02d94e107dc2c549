"""Rendered frames as JPEG files in Gradio's cache, written atomically.

Gradio names a cached image by the hash of its bytes and rewrites it in place, so two sessions
showing the same frame at once could serve a half-written file; here a frame is written under
a temporary name and renamed, and an existing identical frame is reused.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

QUALITY = 90


def cached_jpeg(image: np.ndarray, cache_dir: str | os.PathLike) -> str:
    """Path of (H, W, 3) uint8 ``image`` as a JPEG under ``cache_dir``."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", quality=QUALITY)
    data = buffer.getvalue()
    folder = Path(cache_dir) / hashlib.sha256(data).hexdigest()[:40]
    path = folder / "render.jpeg"
    if path.is_file():
        return str(path)
    folder.mkdir(parents=True, exist_ok=True)
    fd, staging = tempfile.mkstemp(dir=folder, prefix=".render.")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(staging, path)
    return str(path)
