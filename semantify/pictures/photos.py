"""Photos from users: checked before decoding, turned upright and to RGB, and cropped.

The CLI, the app and Python read photos through :func:`read_photo`, so every photo gets the
same checks: size from the header before any pixel is decoded (so no upload can exhaust memory
or stall the server), corrupt and truncated files refused in one line, and odd but usable ones
(animated, CMYK, 16-bit, transparent) converted with a note.
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from pathlib import Path

from PIL import Image

from semantify import limits
from semantify.errors import SemantifyError

MIN_CROP = 8  # pixels: a smaller crop box holds nothing CLIP can see
ROTATED = {5, 6, 7, 8}  # EXIF orientations that swap width and height


@dataclasses.dataclass(frozen=True)
class Box:
    """A crop box in pixels of the upright photo: left ``x``, top ``y``, width ``w``, height
    ``h``."""

    x: int
    y: int
    w: int
    h: int

    @classmethod
    def parse(cls, text: str) -> Box:
        """``"X,Y,W,H"`` (integers) -> Box, or a one-line error."""
        parts = [p.strip() for p in str(text).split(",")]
        try:
            x, y, w, h = (int(float(p)) for p in parts)
        except ValueError:
            raise SemantifyError(f"crop {str(text)[:40]!r} is not X,Y,W,H; write four whole "
                                 "numbers of pixels, e.g. --crop 120,40,300,600.") from None
        return cls(x, y, w, h)

    @classmethod
    def of(cls, item) -> Box:
        """A Box from a Box, an ``(x, y, w, h)`` sequence of whole numbers or ``"X,Y,W,H"``."""
        if isinstance(item, (Box, str)):
            return item if isinstance(item, Box) else cls.parse(item)
        if is_box_like(item):
            return cls(*(int(v) for v in item))
        raise SemantifyError(f"crop {str(item)[:40]!r} is not a box; give (x, y, w, h) in "
                             "whole pixels, e.g. (120, 40, 300, 600).")

    @staticmethod
    def fractions(item) -> tuple[float, float, float, float]:
        """A box drawn on a page, ``[x, y, w, h]`` as fractions (0-1) of the photo shown, as
        a tuple; a one-line error for anything else."""
        if not (isinstance(item, (list, tuple)) and len(item) == 4 and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and 0.0 <= v <= 1.0
                for v in item)):
            raise SemantifyError("the crop box is not valid; drag a box on the photo.")
        return tuple(float(v) for v in item)

    @classmethod
    def from_fractions(cls, fractions, size: tuple[int, int]) -> Box:
        """The box of ``fractions`` (x, y, w, h as :meth:`fractions` takes them) in pixels of
        a photo of ``size`` (width, height), at least one pixel wide and high."""
        fx, fy, fw, fh = cls.fractions(fractions)
        width, height = size
        return cls(round(fx * width), round(fy * height), max(1, round(fw * width)),
                   max(1, round(fh * height)))

    def check(self, size: tuple[int, int], name: str) -> Box:
        """This box if it lies inside a photo of ``size`` (width, height), else an error."""
        width, height = size
        if self.w < MIN_CROP or self.h < MIN_CROP or self.x < 0 or self.y < 0 or \
                self.x + self.w > width or self.y + self.h > height:
            raise SemantifyError(
                f"crop {self.x},{self.y},{self.w},{self.h} does not fit inside {name} "
                f"({width}x{height} pixels); give a box of at least {MIN_CROP}x{MIN_CROP} "
                "pixels inside the photo.")
        return self


def is_box_like(item) -> bool:
    """Whether ``item`` is four whole numbers (a tuple or list), as a crop box is written."""
    import numbers

    return (isinstance(item, (tuple, list)) and len(item) == 4 and all(
        isinstance(v, numbers.Real) and not isinstance(v, bool) and float(v).is_integer()
        for v in item))


@dataclasses.dataclass(frozen=True, eq=False)
class Photo:
    """A readable photo: RGB ``image`` (longest side at most MAX_PHOTO_SIDE), the upright
    ``size`` (width, height) of the original file, and ``notes`` on conversions made."""

    name: str
    image: Image.Image
    size: tuple[int, int]
    notes: tuple[str, ...] = ()

    @classmethod
    def of(cls, image: Image.Image, name: str = "photo") -> Photo:
        """A photo from a PIL image already in memory (Python callers)."""
        from semantify.clip.images import to_rgb

        _check_pixels(*image.size, name)
        rgb = to_rgb(image)
        size = rgb.size
        rgb.thumbnail((limits.MAX_PHOTO_SIDE, limits.MAX_PHOTO_SIDE), Image.Resampling.LANCZOS)
        return cls(name, rgb, size)

    def cropped(self, box: Box | None) -> Image.Image:
        """The image inside ``box`` (in original pixels), or the whole image for None."""
        if box is None:
            return self.image
        box.check(self.size, self.name)
        sx, sy = self.image.width / self.size[0], self.image.height / self.size[1]
        left, top = round(box.x * sx), round(box.y * sy)
        right = max(left + 1, round((box.x + box.w) * sx))
        bottom = max(top + 1, round((box.y + box.h) * sy))
        return self.image.crop((left, top, right, bottom))


def read_photo(path: str | os.PathLike, name: str | None = None) -> Photo:
    """The photo in file ``path`` (shown to users as ``name``), or a one-line error."""
    path = Path(path)
    name = name or path.name
    if not path.is_file() or path.stat().st_size == 0:
        raise SemantifyError(f"{name} is empty or missing; give a JPEG, PNG or WebP photo.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path)
    except Image.DecompressionBombError:
        raise SemantifyError(f"{name} is too large; use a photo under "
                             f"{limits.MAX_PHOTO_PIXELS // 1_000_000} megapixels.") from None
    except (OSError, SyntaxError, ValueError):
        raise SemantifyError(f"{name} is not an image Semantify can read; give a JPEG, PNG or "
                             "WebP photo.") from None
    with image:
        return _decode(image, name)


def _check_pixels(width: int, height: int, name: str) -> None:
    if width * height > limits.MAX_PHOTO_PIXELS or width < 1 or height < 1:
        raise SemantifyError(f"{name} is {width}x{height} pixels, too large; use a photo "
                             f"under {limits.MAX_PHOTO_PIXELS // 1_000_000} megapixels.")


def _check_decode_cost(image: Image.Image, name: str) -> None:
    """Refuse, before decoding, a photo whose pixels would take more than
    MAX_PHOTO_DECODE_BYTES (pixels x bytes per pixel, after a JPEG's reduced decode)."""
    wide = image.mode in ("I", "F", "I;32") or image.mode.startswith("I;32")
    per_band = 4 if wide else 2 if image.mode.startswith("I;16") else 1
    cost = image.width * image.height * len(image.getbands()) * per_band
    if cost > limits.MAX_PHOTO_DECODE_BYTES:
        raise SemantifyError(f"{name} is {image.width}x{image.height} {image.mode} pixels, too "
                             f"costly to decode; save it as an 8-bit JPEG or PNG of at most "
                             f"{limits.MAX_PHOTO_SIDE * 4} pixels a side.")


def _subsampled(image: Image.Image) -> Image.Image:
    """A 16-bit or float image thinned to about MAX_PHOTO_SIDE pixels a side by taking every
    k-th pixel (no float copy of the full image); other images as they are."""
    side = max(image.size)
    if not (image.mode.startswith("I") or image.mode == "F") or side <= limits.MAX_PHOTO_SIDE:
        return image
    import numpy as np

    step = -(-side // limits.MAX_PHOTO_SIDE)
    thinned = Image.fromarray(np.ascontiguousarray(np.asarray(image)[::step, ::step]))
    thinned.info.update(image.info)
    return thinned


def _decode(image: Image.Image, name: str) -> Photo:
    from semantify.clip.images import to_rgb

    width, height = image.size
    _check_pixels(width, height, name)
    image.draft("RGB", (limits.MAX_PHOTO_SIDE, limits.MAX_PHOTO_SIDE))  # JPEG: decode smaller
    _check_decode_cost(image, name)
    try:
        orientation = image.getexif().get(0x0112, 1)
    except (OSError, SyntaxError, ValueError, TypeError):
        orientation = 1
    size = (height, width) if orientation in ROTATED else (width, height)
    notes = []
    if getattr(image, "n_frames", 1) > 1:
        notes.append(f"{name} is animated; using its first frame.")
        image.seek(0)
    if image.mode == "CMYK":
        notes.append(f"{name} is CMYK; converted to RGB.")
    elif image.mode.startswith("I") or image.mode == "F":
        notes.append(f"{name} has {image.mode} pixels (16-bit or more); scaled to 8-bit.")
    elif "A" in image.mode or "transparency" in image.info:
        notes.append(f"{name} has transparency; shown over white.")
    try:
        image.load()
        rgb = to_rgb(_subsampled(image))
    except (OSError, SyntaxError, ValueError, EOFError):
        raise SemantifyError(f"{name} is corrupt or truncated; save it again as JPEG or PNG."
                             ) from None
    rgb.thumbnail((limits.MAX_PHOTO_SIDE, limits.MAX_PHOTO_SIDE), Image.Resampling.LANCZOS)
    return Photo(name, rgb, size, tuple(notes))


def as_photo(item, index: int) -> Photo:
    """A :class:`Photo` from a path, a PIL image or a Photo (``index`` names it in errors)."""
    if isinstance(item, Photo):
        return item
    if isinstance(item, Image.Image):
        return Photo.of(item, f"photo {index + 1}")
    if isinstance(item, (str, os.PathLike)):
        return read_photo(item)
    raise SemantifyError(f"photo {index + 1} is a {type(item).__name__}; pass a file path or a "
                         "PIL image.")
