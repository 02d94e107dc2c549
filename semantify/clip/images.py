"""Images into CLIP's input: any PIL mode to RGB, letterboxing, resizing, normalising."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image, ImageOps

from semantify.errors import SemantifyError

TRANSPARENT_BACKGROUND = (255, 255, 255)  # what shows through transparent pixels


def to_rgb(image: Image.Image) -> Image.Image:
    """``image`` in RGB whatever its mode (RGBA/LA/P over white, CMYK, 16-bit, float, 1-bit),
    turned upright by its EXIF orientation."""
    image = ImageOps.exif_transpose(image)
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        values = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") else max(float(values.max()), 1.0)
        values = np.clip(values / top * 255.0, 0, 255).round().astype(np.uint8)
        return Image.fromarray(values).convert("RGB")
    if (image.mode == "P" and "transparency" in image.info) or image.mode in ("PA", "LA", "La"):
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "RGBa"):
        background = Image.new("RGBA", image.size, TRANSPARENT_BACKGROUND + (255,))
        return Image.alpha_composite(background, image.convert("RGBA")).convert("RGB")
    return image.convert("RGB")


def prepare_photo(image: Image.Image, size: int) -> np.ndarray:
    """(size, size, 3) uint8: the whole photo scaled to fit and padded, never cropped, so a
    full-body shot keeps its head and feet. The padding has the photo's border colour."""
    image = to_rgb(image)
    scale = size / max(image.size)
    fitted = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    image = image.resize(fitted, Image.Resampling.BICUBIC, reducing_gap=3.0)
    pixels = torch.from_numpy(np.asarray(image).copy()).permute(2, 0, 1)[None]
    return pad_to_square(pixels)[0].permute(1, 2, 0).numpy()


def pad_to_square(images: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) -> (N, C, M, M), M = max(H, W): centred, padded with each image's mean
    border colour."""
    n, c, h, w = images.shape
    if h == w:
        return images
    border = torch.cat([images[..., 0, :], images[..., -1, :], images[..., :, 0],
                        images[..., :, -1]], dim=-1).to(torch.float32).mean(dim=-1)  # (N, C)
    if not images.dtype.is_floating_point:
        border = border.round()
    side = max(h, w)
    out = border.to(images.dtype)[:, :, None, None].expand(n, c, side, side).clone()
    top, left = (side - h) // 2, (side - w) // 2
    out[:, :, top:top + h, left:left + w] = images
    return out


def normalise(images: torch.Tensor, size: int, mean: tuple[float, ...],
              std: tuple[float, ...]) -> torch.Tensor:
    """uint8 (N, H, W, 3) -> float32 (N, 3, size, size) on the same device, CLIP-normalised:
    letterboxed if not square, resized (bicubic, antialiased) if not ``size``."""
    x = images.permute(0, 3, 1, 2).to(torch.float32).div_(255.0)
    x = pad_to_square(x)
    if x.shape[-1] != size:
        x = torch.nn.functional.interpolate(x, size=(size, size), mode="bicubic",
                                            antialias=True, align_corners=False).clamp_(0, 1)
    mean_t = torch.tensor(mean, dtype=x.dtype, device=x.device)[:, None, None]
    std_t = torch.tensor(std, dtype=x.dtype, device=x.device)[:, None, None]
    return x.sub_(mean_t).div_(std_t)


def as_uint8_batch(images) -> torch.Tensor:
    """A uint8 (N, H, W, 3) numpy array or tensor (or one (H, W, 3) image) as a CPU tensor."""
    tensor = torch.from_numpy(np.ascontiguousarray(images)) if isinstance(images, np.ndarray) \
        else torch.as_tensor(images)
    if tensor.ndim == 3:
        tensor = tensor[None]
    if tensor.dtype != torch.uint8 or tensor.ndim != 4 or tensor.shape[-1] != 3:
        raise SemantifyError(
            f"CLIP takes uint8 RGB images of shape (N, H, W, 3), got {tensor.dtype} "
            f"{tuple(tensor.shape)}; convert them (e.g. np.asarray(image.convert('RGB'))).")
    return tensor
