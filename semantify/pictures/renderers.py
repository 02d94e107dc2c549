"""Renderers for a morphable model: the viewer, framed once per model and pose from its mean
shape."""

from __future__ import annotations

import contextlib
import math
import weakref
from collections.abc import Iterator, Sequence

import numpy as np
import torch

from semantify.errors import SemantifyError
from semantify.pictures.appearance import DEFAULT_APPEARANCE
from viewer import BatchRenderer, Framing, InteractiveRenderer, View, ViewerError

HEAD_HEIGHT = 0.25  # metres below the top of a full body that count as the head
BODY_MARGIN, HEAD_MARGIN, DEFAULT_MARGIN = 1.3, 1.1, 1.1
FEET_ROOM = 0.12  # share of the half frame left below the feet of a body
_framings: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@contextlib.contextmanager
def viewer_errors() -> Iterator[None]:
    """Turn a :class:`viewer.ViewerError` raised inside into a one-line SemantifyError."""
    try:
        yield
    except ViewerError as error:
        raise SemantifyError(str(error)) from None


def mean_vertices(model, pose="rest") -> np.ndarray:
    """(V, 3) float32 vertices of the model's mean (default-coefficient) shape in ``pose``."""
    from semantify.poses import posed_vertices

    with torch.no_grad():
        return posed_vertices(model, model.default_coefficients()[None], pose)[0].cpu().numpy()


def framing_for(model, pose="rest") -> Framing:
    """The model's fixed camera framing in ``pose``, computed once from its mean shape.

    ``head`` frames the head of a full body (vertices within HEAD_HEIGHT of the top; a mesh
    that is only a head is framed whole). ``body`` stands the figure near the bottom of the
    frame, so that taller bodies have room to grow upwards and shorter ones look shorter; a
    posed body also keeps in frame the feet it puts forward (a sitting body's, nearer the
    camera, are seen lower). Framings depend only on (model, pose): sizes compare within one.
    """
    from semantify.poses import resolve_pose

    pose = resolve_pose(model, pose)
    per_model = _framings.setdefault(model, {})
    if pose in per_model:
        return per_model[pose]
    vertices = mean_vertices(model, pose)
    kind = getattr(model, "framing", "full")
    with viewer_errors():
        if kind == "head":
            heights = vertices[:, 1]
            region = None
            if heights.max() - heights.min() > 2.5 * HEAD_HEIGHT:
                region = np.flatnonzero(heights > heights.max() - HEAD_HEIGHT)
            framing = Framing.from_vertices(vertices, region, margin=HEAD_MARGIN)
        elif kind == "body":
            framing = Framing.from_vertices(vertices, margin=BODY_MARGIN)
            half = framing.radius / math.cos(math.radians(framing.fov) / 2)
            floor = float(vertices[:, 1].min())
            nearer = 1.0  # how much nearer than the centre the lowest points may come
            if not pose.is_rest:
                low = vertices[vertices[:, 1] < floor + 0.05]
                reach = np.linalg.norm(low[:, [0, 2]] - np.array(framing.center)[[0, 2]],
                                       axis=1).max()
                nearer = (framing.distance - reach) / framing.distance
            center_y = floor + (1 - FEET_ROOM) * half * nearer
            framing = Framing((framing.center[0], center_y, framing.center[2]),
                              framing.radius, framing.fov)
        else:
            framing = Framing.from_vertices(vertices, margin=DEFAULT_MARGIN)
    per_model[pose] = framing
    return framing


def batch_renderer(model, views: str | Sequence[str | View], size: int = 224,
                   appearance: str = DEFAULT_APPEARANCE, pose="rest", **options) -> BatchRenderer:
    """A :class:`viewer.BatchRenderer` for ``model``'s faces and framing in ``pose``, in
    ``appearance`` (``skin`` bakes the skin texture into per-vertex colours, see
    :mod:`semantify.pictures.appearance`). Render vertices posed in that same ``pose``."""
    from semantify.pictures.appearance import clip_material_for, uv_layout

    material = clip_material_for(model, appearance)
    with viewer_errors():
        return BatchRenderer(model.faces.cpu().numpy(), framing_for(model, pose), views, size,
                             material=material, uv_layout=uv_layout(model), **options)


def interactive_renderer(model, size: int = 512, **options) -> InteractiveRenderer:
    """A :class:`viewer.InteractiveRenderer` for ``model``'s faces, rest framing and texture
    layout. Pass ``material=semantify.pictures.appearance.material_for(model, "skin")`` and, for a
    posed body, ``framing=framing_for(model, pose)`` to its ``render``."""
    from semantify.pictures.appearance import uv_layout

    with viewer_errors():
        return InteractiveRenderer(model.faces.cpu().numpy(), framing_for(model), size,
                                   uv_layout=uv_layout(model), **options)
