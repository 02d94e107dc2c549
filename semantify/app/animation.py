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


def ramp_gif(session: Session, runtime: Runtime, index: int, camera=None,
             frames: int = FRAMES) -> Path:
    """A GIF sweeping slider ``index`` over its range, other sliders fixed, seen from
    ``camera`` (the page's; default: the front view) in the session's pose and look, in the
    session's scratch folder under a name of the app's own. Each value is drawn and given
    its palette once: the way back shows the way up's frames."""
    from PIL import Image

    slider = runtime.slider_set.sliders[index]
    sequence = [float(v) for v in ramp_values(slider.low, slider.high, frames)]
    pictures: dict[float, Image.Image] = {}  # one per value: the way back repeats the way up's
    for value in sequence:
        if value in pictures:
            continue
        values = list(session.values)
        values[index] = value
        shape = runtime.shape(values)
        shown = view.shown_vertices(session, runtime, shape.coefficients, shape.vertices)
        drawn = view.scene(session, runtime, shown)
        frame = runtime.render(drawn.vertices, camera, material=drawn.material,
                               framing=drawn.framing)
        pictures[value] = (Image.fromarray(frame).resize((FRAME_SIZE, FRAME_SIZE))
                           .convert("P", palette=Image.Palette.ADAPTIVE))
    first, *rest = (pictures[value] for value in sequence)
    path = scratch.session_folder(session.token) / f"ramp-{index}.gif"
    first.save(path, save_all=True, append_images=rest, duration=60, loop=0)
    return path
