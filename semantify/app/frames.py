"""Rendered frames delivered inside the event's response, as JPEG data URLs.

A frame written to Gradio's file cache costs the client a second request after every slider
move; a ~25 KB data URL rides in the same message instead. The viewer is a ``gr.HTML`` whose
value is that URL (see :mod:`semantify.app.layout`).
"""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

QUALITY = 85
PREFIX = "data:image/jpeg;base64,"


def jpeg_data_url(image: np.ndarray, quality: int = QUALITY) -> str:
    """(H, W, 3) uint8 ``image`` as a ``data:image/jpeg;base64,...`` URL."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", quality=quality)
    return PREFIX + base64.b64encode(buffer.getvalue()).decode("ascii")


def decode_data_url(url: str) -> Image.Image:
    """The image inside a ``data:image/...;base64,...`` URL (API clients, tests)."""
    return Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
