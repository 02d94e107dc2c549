"""Poses as data, for every model with a skeleton: list them, resolve a name, pose vertices.

    from semantify.poses import pose_names, posed_vertices
    pose_names(model)                                   # ['rest', 'a-pose', 'arms-crossed', ...]
    posed_vertices(model, coefficients, "walking")      # (B, V, 3) float32, metres

Measurements always come from the rest pose (``model(coefficients)``); posed vertices are for
showing and rendering. See :mod:`semantify.poses.records` for the file formats.
"""

from semantify.poses.posing import (
    offered_poses,
    pose_names,
    posed_vertices,
    resolve_pose,
    usable_poses,
)
from semantify.poses.records import REST, Pose

__all__ = ["REST", "Pose", "offered_poses", "pose_names", "posed_vertices", "resolve_pose",
           "usable_poses"]
