"""A symmetric ramp: one slider swept low -> high -> low, as a looping GIF."""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import numpy as np

from semantify.app import view
from semantify.app.session import Session

FRAMES = 24  # frames per low -> high half
FRAME_SIZE = 256


def ramp_values(low: float, high: float, frames: int = FRAMES) -> np.ndarray:
    """(2 * frames - 2,) values low -> high -> low, each end once (loops seamlessly)."""
    up = np.linspace(low, high, frames)
    return np.concatenate([up, up[-2:0:-1]])


def ramp_gif(session: Session, index: int, frames: int = FRAMES) -> Path:
    """Path of a GIF sweeping control ``index`` over its range, other sliders fixed."""
    import imageio.v3 as iio
    from PIL import Image

    control = view.panel(session.key).controls[index]
    images = []
    for value in ramp_values(control.low, control.high, frames):
        values = list(session.values)
        values[index] = float(value)
        frame = view.render(dataclasses.replace(view.with_values(session, values),
                                                heatmap=False))
        images.append(np.asarray(Image.fromarray(frame).resize((FRAME_SIZE, FRAME_SIZE))))
    path = Path(tempfile.mkdtemp(prefix="semantify-ramp-")) / f"ramp-{control.name}.gif"
    iio.imwrite(path, np.stack(images), duration=60, loop=0)
    return path
