"""Fixes for other packages, each in one place.

- Torchvision on CPU-only torch: PyPI's torchvision is built against CUDA torch, so on a CPU
  wheel its C++ ops are missing and ``import torchvision`` fails with "operator torchvision::nms
  does not exist". Declaring the schemas of the two ops it registers Python kernels for is
  enough for transforms, timm and open_clip to import. Call :func:`ensure_torchvision` before
  any of them is imported.
- Native banners: :func:`quiet_native_stderr` (Warp's CUDA warning on machines without a GPU).
"""

import contextlib
import functools
import os
import sys

import torch

_SCHEMAS = {
    "nms": "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms": "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
}


@functools.cache
def ensure_torchvision() -> None:
    """Define missing ``torchvision::nms``/``qnms`` schemas so that torchvision imports."""
    try:
        import torchvision  # noqa: F401

        return
    except RuntimeError as error:
        if "torchvision::nms does not exist" not in str(error):
            raise
    for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
        del sys.modules[name]
    library = torch.library.Library("torchvision", "DEF")
    for schema in _SCHEMAS.values():
        library.define(schema)
    ensure_torchvision._library = library  # keep the registration alive
    import torchvision  # noqa: F401


@contextlib.contextmanager
def quiet_native_stderr():
    """Silence what native libraries print to file descriptor 2 inside the block (Warp's
    "CUDA driver not found" banner on every CPU machine). Python errors still raise."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
