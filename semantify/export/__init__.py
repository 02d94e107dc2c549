"""Exports: meshes (OBJ, PLY, GLB) with smooth normals, placed for use, and GLBs that carry a
rig and the sliders as shape keys (for Blender, Unity, Unreal, Godot and web viewers).

    from semantify.export import export_shape
    export_shape(shape, "body.glb", "walking", rig=True, shape_keys=True)

Conventions: metres, +Y up, facing +Z; a body stands with its feet (its lowest point) at
y = 0, posed or not; faces and heads keep their model's own origin. Normals are the smooth
ones the app's viewer shades with. A rigged GLB is written in the rest pose (its bind pose)
with its joints standing in the chosen pose, which is also a one-frame animation; SMPL,
SMPL-X and FLAME add that pose's correctives as the morph target ``pose_correctives_<pose>`` at
weight 1 (0: the bind pose).
:mod:`semantify.export.meshes` writes the files, :mod:`~semantify.export.rig` and
:mod:`~semantify.export.shape_keys` compute what a GLB carries, :mod:`~semantify.export.glb`
lays it out.
"""

from semantify.export.meshes import MESH_FORMATS, export_mesh, vertex_normals
from semantify.export.shapes import Exported, export_shape

__all__ = ["MESH_FORMATS", "Exported", "export_mesh", "export_shape", "vertex_normals"]
