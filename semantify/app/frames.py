"""Rendered frames delivered inside the event's response, as JPEG data URLs.

A frame written to Gradio's file cache costs the client a second request (and gradio_client a
second connection) after every slider move; a ~25 KB data URL rides in the same message
instead. :class:`InlineImage` is a ``gr.Image`` that passes such a URL through untouched.
"""

from __future__ import annotations

import base64
import io

import gradio as gr
import numpy as np
from gradio.data_classes import ImageData
from PIL import Image

QUALITY = 85
PREFIX = "data:image/jpeg;base64,"


def jpeg_data_url(image: np.ndarray) -> str:
    """(H, W, 3) uint8 ``image`` as a ``data:image/jpeg;base64,...`` URL."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", quality=QUALITY)
    return PREFIX + base64.b64encode(buffer.getvalue()).decode("ascii")


def decode_data_url(url: str) -> Image.Image:
    """The image inside a ``data:image/...;base64,...`` URL (API clients, tests)."""
    return Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))


class InlineImage(gr.Image):
    """A ``gr.Image`` output that shows data URLs as they are (no file, no second request).

    ``is_template`` makes the page draw it with the stock image component.
    """

    is_template = True

    def postprocess(self, value):
        if isinstance(value, str) and value.startswith("data:image/"):
            return ImageData(url=value, orig_name="render.jpeg", mime_type="image/jpeg")
        return super().postprocess(value)
