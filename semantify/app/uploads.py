"""Check uploaded photos before decoding them, so no upload can crash or stall the server.

Every problem becomes a one-line SemantifyError; acceptable oddities (animated GIF, CMYK,
16-bit, alpha) are converted and reported as notices.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from PIL import Image

from semantify.errors import SemantifyError

MAX_PIXELS = 50_000_000  # 50 megapixels: checked from the header, before decoding
MAX_SIDE = 1024  # photos are kept at most this large (CLIP sees 224 px)
MAX_PHOTOS = 8


def read_photo(path: str | os.PathLike) -> tuple[Image.Image, list[str]]:
    """The RGB photo at ``path`` (longest side at most MAX_SIDE) and notices about it."""
    from semantify.clip.images import to_rgb

    path = Path(path)
    name = path.name
    if not path.is_file() or path.stat().st_size == 0:
        raise SemantifyError(f"{name} is empty; upload a JPEG, PNG or WebP photo.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path)
    except Image.DecompressionBombError:
        raise SemantifyError(f"{name} is too large; upload a photo under "
                             f"{MAX_PIXELS // 1_000_000} megapixels.") from None
    except (OSError, SyntaxError, ValueError):
        raise SemantifyError(f"{name} is not an image this app can read; upload a JPEG, PNG "
                             "or WebP photo.") from None
    with image:
        return _decode(image, name, to_rgb)


def _decode(image: Image.Image, name: str, to_rgb) -> tuple[Image.Image, list[str]]:
    width, height = image.size
    if width * height > MAX_PIXELS or width < 1 or height < 1:
        raise SemantifyError(f"{name} is {width}x{height} pixels, too large; upload a photo "
                             f"under {MAX_PIXELS // 1_000_000} megapixels.")
    notices = []
    if getattr(image, "n_frames", 1) > 1:
        notices.append(f"{name} is animated; using its first frame.")
        image.seek(0)
    if image.mode == "CMYK":
        notices.append(f"{name} is CMYK; converted to RGB.")
    elif image.mode.startswith("I") or image.mode == "F":
        notices.append(f"{name} has {image.mode} pixels (16-bit or more); scaled to 8-bit.")
    elif "A" in image.mode or "transparency" in image.info:
        notices.append(f"{name} has transparency; shown over white.")
    image.draft("RGB", (MAX_SIDE, MAX_SIDE))  # JPEG: decode at a reduced size, much faster
    try:
        image.load()
        rgb = to_rgb(image)
    except (OSError, SyntaxError, ValueError, EOFError):
        raise SemantifyError(f"{name} is corrupt or truncated; upload the file again or "
                             "re-save it as JPEG or PNG.") from None
    rgb.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    return rgb, notices


def read_photos(paths) -> tuple[list[Image.Image], list[str]]:
    """Every readable photo among ``paths`` and one notice per problem or conversion."""
    paths = [p for p in (paths or []) if p]
    notices = []
    if len(paths) > MAX_PHOTOS:
        notices.append(f"only the first {MAX_PHOTOS} of {len(paths)} photos are used.")
        paths = paths[:MAX_PHOTOS]
    photos = []
    for path in paths:
        try:
            photo, notes = read_photo(path)
        except SemantifyError as error:
            notices.append(str(error))
            continue
        photos.append(photo)
        notices += notes
    return photos, notices
