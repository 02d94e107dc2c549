"""Turntables: a shape, in a pose and an appearance, spinning 360 degrees, as MP4 or GIF.

    from semantify.pictures.turntable import write_turntable
    write_turntable("spin.mp4", model, coefficients, pose="walking", appearance="skin")

MP4 is H.264 through imageio's ffmpeg plugin (the ``imageio-ffmpeg`` package ships the
ffmpeg binary); GIF is written by Pillow. Frames are rendered one at a time (an MP4 is streamed
to ffmpeg; a GIF holds its frames), and the file appears only when complete.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from semantify.errors import SemantifyError
from semantify.pictures.appearance import DEFAULT_APPEARANCE
from semantify.poses import Pose

FORMATS = (".mp4", ".gif")
FRAMES_RANGE = (2, 720)
FPS_RANGE = (1, 60)
SIZE_RANGE = (64, 1024)
MACRO_BLOCK = 16  # H.264 frame sides are multiples of this


def check_turntable(path: Path | str, frames: int, fps: int, size: int) -> Path:
    """``path`` if it ends in .mp4 or .gif and the counts are in range, else a one-line error."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise SemantifyError(f"cannot write a turntable as {path.name!r}; use one of "
                             f"{', '.join(FORMATS)}.")
    for name, value, (low, high) in (("frames", frames, FRAMES_RANGE), ("fps", fps, FPS_RANGE),
                                     ("size", size, SIZE_RANGE)):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise SemantifyError(f"turntable {name} must be an integer from {low} to {high}, "
                                 f"got {value!r}.")
    return path


def turntable_frames(model, coefficients, pose: str | Pose = "rest",
                     appearance: str = DEFAULT_APPEARANCE,
                     size: int = 384, frames: int = 72,
                     elevation: float = 10.0) -> Iterator[np.ndarray]:
    """(size, size, 3) uint8 frames of one turn (azimuth 0 to 360, end excluded), full quality,
    from a renderer of their own (the live viewers' renderer stays free). ``coefficients`` is
    one (C,) or (1, C) shape."""
    from semantify.pictures.appearance import material_for
    from semantify.pictures.renderers import framing_for, interactive_renderer, viewer_errors
    from semantify.poses import posed_vertices
    from viewer import OrbitCamera

    material = material_for(model, appearance)
    framing = framing_for(model, pose)
    coefficients = torch.as_tensor(coefficients, dtype=torch.float32).reshape(1, -1)
    with torch.no_grad():
        vertices = posed_vertices(model, coefficients, pose)[0].cpu().numpy()
    renderer = interactive_renderer(model, size=size)
    try:
        with viewer_errors():
            for frame in range(frames):
                camera = OrbitCamera(azimuth=360.0 * frame / frames, elevation=elevation)
                yield renderer.render(vertices, camera, material=material, framing=framing)
    finally:
        renderer.release()


def write_turntable(path: Path | str, model, coefficients, pose: str | Pose = "rest",
                    appearance: str = DEFAULT_APPEARANCE, size: int = 384, frames: int = 72,
                    fps: int = 24, elevation: float = 10.0) -> Path:
    """Render one turn and write it to ``path`` (.mp4 or .gif); returns the path.

    MP4 sides are rounded up to a multiple of 16 for H.264. Raises a one-line error for a bad
    path or count, or when the MP4 encoder is missing.
    """
    from semantify.files import write_atomic

    if size % MACRO_BLOCK and Path(path).suffix.lower() == ".mp4":
        size = int(math.ceil(size / MACRO_BLOCK) * MACRO_BLOCK)
    path = check_turntable(path, frames, fps, size)
    if not path.parent.is_dir():
        raise SemantifyError(f"cannot write {str(path)!r}: {str(path.parent)!r} is not a "
                             "folder; choose a path in an existing, writable folder.")
    images = turntable_frames(model, coefficients, pose, appearance, size, frames, elevation)
    if path.suffix.lower() == ".gif":
        write_atomic(path, lambda tmp: _write_gif(tmp, list(images), fps), suffix=".tmp.gif")
    else:
        write_atomic(path, lambda tmp: _write_mp4(tmp, images, fps), suffix=".tmp.mp4")
    return path


def _write_gif(target: str, images: list[np.ndarray], fps: int) -> None:
    import imageio.v3 as iio

    iio.imwrite(target, np.stack(images), extension=".gif", duration=1000.0 / fps, loop=0)


def _write_mp4(target: str, images, fps: int) -> None:
    import imageio.v2 as imageio

    try:
        import imageio_ffmpeg  # noqa: F401 - the ffmpeg binary imageio needs
    except ImportError:
        raise SemantifyError("writing MP4 needs the imageio-ffmpeg package; pip install "
                             "imageio-ffmpeg, or write a .gif.") from None
    # One encoder thread: on a server, the other cores keep serving pages and frames.
    writer = imageio.get_writer(target, format="FFMPEG", mode="I", fps=fps, codec="libx264",
                                quality=8, pixelformat="yuv420p", macro_block_size=MACRO_BLOCK,
                                ffmpeg_log_level="error", ffmpeg_params=["-threads", "1"])
    try:
        for image in images:
            writer.append_data(image)
    finally:
        writer.close()
