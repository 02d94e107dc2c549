"""A symmetric ramp: one slider swept low -> high -> low, as a looping GIF."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from semantify.app import scratch, view
from semantify.app.runtime import Runtime
from semantify.app.session import Session

FRAMES = 24  # frames per low -> high half
FRAME_SIZE = 256


def ramp_values(low: float, high: float, frames: int = FRAMES) -> np.ndarray:
    """(2 * frames - 2,) values low -> high -> low, each end once (loops seamlessly)."""
    up = np.linspace(low, high, frames)
    return np.concatenate([up, up[-2:0:-1]])


def ramp_gif(session: Session, runtime: Runtime, index: int, frames: int = FRAMES) -> Path:
    """A GIF sweeping slider ``index`` over its range, other sliders fixed, in the session's
    scratch folder under a name of the app's own."""
    import imageio.v3 as iio
    from PIL import Image

    slider = runtime.slider_set.sliders[index]
    images = []
    for value in ramp_values(slider.low, slider.high, frames):
        values = list(session.values)
        values[index] = float(value)
        shape = runtime.shape(values)
        frame = runtime.render(shape.vertices, view.camera(session))
        images.append(np.asarray(Image.fromarray(frame).resize((FRAME_SIZE, FRAME_SIZE))))
    path = scratch.session_folder(session.token) / f"ramp-{index}.gif"
    iio.imwrite(path, np.stack(images), duration=60, loop=0)
    return path
