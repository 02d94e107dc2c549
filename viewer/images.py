"""Image helpers: put views side by side, and write a PNG safely."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from viewer.errors import ViewerError


def side_by_side(images: Sequence[np.ndarray]) -> np.ndarray:
    """[(H, W_i, 3) uint8, ...] -> (H, sum W_i, 3) uint8."""
    images = [np.asarray(image) for image in images]
    if not images or len({image.shape[0] for image in images}) != 1:
        raise ViewerError("side_by_side needs one or more images of the same height.")
    return np.concatenate(images, axis=1)


def save_png(path: str | os.PathLike, image: np.ndarray) -> Path:
    """Write (H, W, 3) uint8 ``image`` to ``path`` atomically (temporary file, then rename)."""
    path = Path(path)
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ViewerError(f"save_png needs an (H, W, 3) uint8 image, got {image.dtype} "
                          f"{image.shape}.")
    temporary = None
    try:
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp",
                                         delete=False) as handle:
            temporary = handle.name
            Image.fromarray(image).save(handle, format="PNG")
        os.replace(temporary, path)
    except OSError as error:
        if temporary is not None and os.path.exists(temporary):
            os.unlink(temporary)
        raise ViewerError(f"cannot write {str(path)!r} ({error.strerror or error}); choose a "
                          "path in an existing, writable folder.") from None
    return path
