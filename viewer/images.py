"""Image helpers: put views side by side, and write a PNG safely."""

from __future__ import annotations

import os
import secrets
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
    temporary, created = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp", False
    try:  # opened as open() would make ``path``: mode 0666 less the umask (mkstemp's is 0600)
        with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666),
                       "wb") as handle:
            created = True
            Image.fromarray(image).save(handle, format="PNG")
        os.replace(temporary, path)
    except OSError as error:
        if created and os.path.exists(temporary):
            os.unlink(temporary)
        raise ViewerError(f"cannot write {str(path)!r} ({error.strerror or error}); choose a "
                          "path in an existing, writable folder.") from None
    return path
