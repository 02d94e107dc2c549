"""Named poses -> per-bone rotations of a model's skeleton -> posed vertices.

Rotations follow one convention across families: each bone turns about its head, in the world
axes its parent has carried it to (SMPL's convention; Anny's ``local-ref`` taken relative to
its rest bones). A pose is written against the T-pose (unless its base is ``rest``); for a family
that rests in another pose (Anny: an A-pose) the skeleton's ``t_pose`` aims give, once per
model from its mean
shape, the rotations E that reach the T-pose, and a pose rotation P of bone c becomes
``A_p^-1 P A_p E_c``, A_p being the T-pose rotation accumulated down to c's parent.
"""

from __future__ import annotations

import math
import weakref

import torch

from semantify.errors import SemantifyError
from semantify.poses.records import HEAD_JOINTS, REST, Pose, pose_file, presets, skeleton

_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> {pose: (J, 3, 3)}


def euler_matrices(degrees: torch.Tensor) -> torch.Tensor:
    """(N, 3) angles in degrees -> (N, 3, 3) rotations: about x, then y, then z (fixed axes)."""
    import roma

    return roma.euler_to_rotmat("xyz", degrees.double(), degrees=True)


def aligning_rotation(source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(3,) direction ``source`` -> the (3, 3) rotation of least angle taking it to ``target``."""
    import roma

    a, b = source / source.norm(), target / target.norm()
    axis = torch.linalg.cross(a, b)
    angle = torch.atan2(axis.norm(), torch.dot(a, b))
    if axis.norm() < 1e-12:
        return torch.eye(3, dtype=a.dtype)
    return roma.rotvec_to_rotmat(axis / axis.norm() * angle)


def usable_poses(model) -> list[Pose]:
    """The poses ``model`` can show: ``rest``, then every preset its skeleton covers (for a
    model framed on the head, those that move only the head)."""
    found = [presets()[REST]]
    if getattr(model, "skeleton", None) is None:
        return found
    joints = skeleton(model.skeleton).joint_names
    head_only = getattr(model, "framing", "") == "head"
    return found + [pose for pose in presets().values() if not pose.is_rest
                    and pose.joints <= (joints & HEAD_JOINTS if head_only else joints)
                    and (pose.joints or not head_only)]


def offered_poses(model) -> list[Pose]:
    """The poses a picker offers for ``model``: those it can show that suit it. A body is not
    offered the poses that move only the head (a turn of the head is barely seen at a whole
    body's framing; ``posed_vertices`` still takes them)."""
    usable = usable_poses(model)
    if getattr(model, "framing", "") == "head":
        return usable
    return [pose for pose in usable  # (the T-pose turns no joint of its own)
            if pose.is_rest or not pose.joints or not pose.joints <= HEAD_JOINTS]


def pose_names(model) -> list[str]:
    """Names of the poses ``model`` can show (``rest`` first), for a picker or ``--pose``."""
    return [pose.name for pose in usable_poses(model)]


def resolve_pose(model, pose: str | Pose) -> Pose:
    """The Pose ``pose`` names for ``model`` (a shipped name, or a user's ``.json`` file), or a
    one-line error listing the valid poses."""
    usable = {p.name: p for p in usable_poses(model)}
    if isinstance(pose, str) and pose in usable:
        return usable[pose]
    valid = f"valid poses: {', '.join(usable)}."
    if isinstance(pose, Pose):
        chosen = pose
    elif isinstance(pose, str) and pose.lower().endswith(".json"):
        chosen = pose_file(pose)
    elif isinstance(pose, str) and pose in presets():
        chosen = presets()[pose]
    else:
        raise SemantifyError(f"unknown pose {pose!r} for {model.id}; {valid}")
    if chosen.is_rest:
        return chosen
    if getattr(model, "skeleton", None) is None:
        raise SemantifyError(f"{model.id} has no skeleton, so it can only be shown at rest; "
                             f"{valid}")
    missing = sorted(chosen.joints - skeleton(model.skeleton).joint_names)
    if missing:
        raise SemantifyError(f"pose {chosen.name!r} moves joints {model.id} lacks "
                             f"({', '.join(missing)}); {valid}")
    if getattr(model, "framing", "") == "head" and not (chosen.joints and
                                                        chosen.joints <= HEAD_JOINTS):
        raise SemantifyError(f"pose {chosen.name!r} moves more than the head, and {model.id} "
                             f"shows only the head; {valid}")
    return chosen


def bone_rotations(model, pose: Pose) -> torch.Tensor:
    """(J, 3, 3) float32 rotations of ``model``'s bones for ``pose`` (cached per model)."""
    per_model = _cache.setdefault(model, {})
    if pose not in per_model:
        per_model[pose] = _bone_rotations(model, pose)
    return per_model[pose]


def _bone_rotations(model, pose: Pose) -> torch.Tensor:
    skel = skeleton(model.skeleton)
    names, parents = list(model.bone_names), list(model.bone_parents)
    count = len(names)
    posed = torch.eye(3, dtype=torch.float64).repeat(count, 1, 1)  # P, per bone
    for joint, angles in pose.rotations:
        bones = skel.bones_of(joint)
        rotvec = _rotvec(euler_matrices(torch.tensor([angles]))[0]) / len(bones)
        for bone in bones:
            posed[names.index(bone)] = _rotmat(rotvec)
    aims = t_pose_rotations(model) if pose.base == "t-pose" else torch.eye(3).double().repeat(
        count, 1, 1)
    accumulated = torch.eye(3, dtype=torch.float64).repeat(count, 1, 1)  # A, per bone
    rotations = torch.empty_like(posed)
    for bone in range(count):
        parent = accumulated[parents[bone]] if parents[bone] >= 0 else torch.eye(3).double()
        accumulated[bone] = parent @ aims[bone]
        rotations[bone] = parent.T @ posed[bone] @ parent @ aims[bone]
    return rotations.float()


def t_pose_rotations(model) -> torch.Tensor:
    """(J, 3, 3) float64 rotations E that take ``model``'s rest pose to the T-pose, from the
    skeleton's aims on the mean shape (identity for families that rest in the T-pose)."""
    skel = skeleton(model.skeleton)
    names, parents = list(model.bone_names), list(model.bone_parents)
    aims = torch.eye(3, dtype=torch.float64).repeat(len(names), 1, 1)
    if not skel.t_pose:
        return aims
    with torch.no_grad():
        heads = model.joint_positions(model.default_coefficients()[None])[0].double()
    accumulated = {}

    def carried(bone: int) -> torch.Tensor:  # the T-pose rotation accumulated down to ``bone``
        if bone < 0:
            return torch.eye(3, dtype=torch.float64)
        if bone not in accumulated:
            accumulated[bone] = carried(parents[bone]) @ aims[bone]
        return accumulated[bone]

    for aim in sorted(skel.t_pose, key=lambda a: names.index(a.bone)):
        bone, tip = names.index(aim.bone), names.index(aim.tip)
        parent = carried(parents[bone])
        target = parent.T @ torch.tensor(aim.direction, dtype=torch.float64)
        aims[bone] = aligning_rotation(heads[tip] - heads[bone], target)
        accumulated.clear()
    return aims


def _rotvec(matrix: torch.Tensor) -> torch.Tensor:
    import roma

    return roma.rotmat_to_rotvec(matrix)


def _rotmat(rotvec: torch.Tensor) -> torch.Tensor:
    import roma

    return roma.rotvec_to_rotmat(rotvec)


def floor_lift(model, posed: torch.Tensor, rest: torch.Tensor) -> torch.Tensor:
    """(B,) how far up a posed (B, V, 3) body moves to keep its lowest point on its rest
    floor (zero for models not framed as a body)."""
    if getattr(model, "framing", "") != "body":
        return torch.zeros(len(posed), dtype=posed.dtype, device=posed.device)
    return rest[..., 1].amin(dim=1) - posed[..., 1].amin(dim=1)


def posed_vertices(model, coefficients, pose: str | Pose = REST) -> torch.Tensor:
    """(B, C) coefficients -> (B, V, 3) float32 vertices of ``model`` in ``pose``.

    ``rest`` is exactly ``model(coefficients)``, the pose measurements are taken in. A body
    (``framing == "body"``) keeps its lowest point on its rest floor, so a sitting body sits
    (on an unseen seat) with its feet on the ground.
    """
    pose = resolve_pose(model, pose)
    if pose.is_rest:
        return model(coefficients)
    posed, rest = model.skin(coefficients, bone_rotations(model, pose))
    lift = floor_lift(model, posed, rest)
    posed = posed + torch.nn.functional.pad(lift[:, None, None], (1, 1))
    if not math.isfinite(float(posed.abs().max())):
        raise SemantifyError(f"pose {pose.name!r} gave non-finite vertices for {model.id}; "
                             "check the pose file's rotations.")
    return posed.to(torch.float32)
