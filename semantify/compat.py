"""Make torchvision importable on CPU-only torch (the one place this fix lives).

PyPI's torchvision is built against CUDA torch: on a CPU wheel its C++ ops are missing and
``import torchvision`` fails with "operator torchvision::nms does not exist". Declaring the
schemas of the two ops it registers Python kernels for is enough for transforms, timm and
open_clip to import. Call :func:`ensure_torchvision` before any of them is imported.
"""

import functools

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
    import sys

    for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
        del sys.modules[name]
    library = torch.library.Library("torchvision", "DEF")
    for schema in _SCHEMAS.values():
        library.define(schema)
    ensure_torchvision._library = library  # keep the registration alive
    import torchvision  # noqa: F401
