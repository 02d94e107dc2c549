"""A shape on its way out: placed (a body stands with its feet at y = 0; faces and heads keep
the model's own origin), posed, and written with its optional rig and shape keys."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from semantify.export.rig import Rig
from semantify.export.shape_keys import ShapeKeys
from semantify.pictures.appearance import DEFAULT_APPEARANCE


@dataclasses.dataclass(frozen=True)
class Exported:
    """What :func:`export_shape` wrote: the file, the pose, and the rig and keys it holds."""

    path: Path
    pose: str
    rig: Rig | None = None
    shape_keys: ShapeKeys | None = None


def placement(model, vertices: np.ndarray) -> np.ndarray:
    """(..., 1, 3) float32 offsets placing (..., V, 3) vertices of ``model`` for export: a body
    (``framing == "body"``) moves up until its lowest point (its feet at rest; posed bodies
    keep the rest floor) is at y = 0; any other model stays where it is (zeros)."""
    vertices = np.asarray(vertices, dtype=np.float32)
    offsets = np.zeros(vertices.shape[:-2] + (1, 3), dtype=np.float32)
    if getattr(model, "framing", "") == "body":
        offsets[..., 0, 1] = -vertices[..., 1].min(axis=-1)
    return offsets


def grounded(model, vertices: np.ndarray) -> np.ndarray:
    """(..., V, 3) vertices placed for export (see :func:`placement`)."""
    return np.asarray(vertices, dtype=np.float32) + placement(model, vertices)


def export_shape(shape, path: Path | str, pose="rest", appearance: str = DEFAULT_APPEARANCE,
                 rig: bool = False, shape_keys: bool = False, influences: int = 4) -> Exported:
    """Write ``shape`` (a :class:`semantify.sets.sliders.Shape`) to ``path`` in ``pose`` (a name
    or a :class:`semantify.poses.Pose`). With ``rig`` the mesh is written at rest (the bind
    pose) and the skeleton stands in ``pose``; with ``shape_keys`` each slider is a morph
    target. Both need a .glb; a model without a skeleton cannot be rigged."""
    from semantify.export.meshes import export_mesh, mesh_format
    from semantify.export.rig import rig_of
    from semantify.export.shape_keys import shape_keys_of
    from semantify.pictures.appearance import material_for
    from semantify.poses import REST, posed_vertices, resolve_pose

    mesh_format(Path(path), rig or shape_keys)  # the checks first, then the work
    model = shape.slider_set.model
    pose = resolve_pose(model, pose)
    material = material_for(model, appearance)  # checks the appearance before any work
    offset = placement(model, shape.vertices)[0]
    skeleton = rig_of(model, shape.coefficients, pose, offset, influences) if rig else None
    drawn = resolve_pose(model, REST) if rig else pose
    vertices = shape.vertices if drawn.is_rest else shape.posed(drawn)
    keys = None
    if shape_keys:
        keys = shape_keys_of(shape, lambda c: grounded(model, posed_vertices(model, c, drawn)))
    path = export_mesh(path, vertices + offset, model.faces.cpu().numpy(), model.uv_map,
                       material, skeleton, keys)
    return Exported(path, pose.name, skeleton, keys)
