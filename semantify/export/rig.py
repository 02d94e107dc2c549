"""A shape's rig as a GLB carries it: bones placed for this shape, the chosen pose, and the
skin weights cut to the few bones a vertex that engines read (fitted to the model's own
skinning: :mod:`semantify.export.weights`).

The bind pose is the rest pose (the mesh is written at rest, the inverse bind matrices are the
rest frames'); the joints stand in the chosen pose (a viewer that plays nothing shows it), which
is also written as a one-frame animation named after it.

SMPL-family models (SMPL, SMPL-X, FLAME) add pose correctives before they skin: rest-space
vertex offsets that depend on the pose (smplx's pose blend shapes, ``posedirs``). A rig in such
a pose carries them as one morph target, ``pose_correctives_<pose>``, whose default weight is 1
(the joints stand in that pose by default) and which the pose's animation also holds at 1:
skinning rest + correctives with the joints gives the model's posed vertices; at weight 0 the
mesh is the bind (rest) pose. At rest, and for models without correctives (Anny), there is no
such target.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from semantify.errors import SemantifyError
from semantify.export.weights import WeightFit, skin_weights

INFLUENCES = (4, 8)  # bones a vertex: 4 is what every engine reads; 8 is JOINTS_0 + JOINTS_1


@dataclasses.dataclass(frozen=True)
class Rig:
    """``names`` and ``parents`` (-1: a root) of J bones; ``rest`` and ``posed`` (J, 4, 4)
    float64 world frames (metres, export placement applied); ``joints`` (V, N) int and
    ``weights`` (V, N) float32 rows summing to 1, N in :data:`INFLUENCES`, made as ``fit``
    says; the ``pose`` name; ``deviation_mm`` (mean, max) of the skinned pose (correctives
    included) from semantify's posed vertices; ``correctives`` (V, 3) float32 rest-space
    offsets the model adds in this pose before skinning (the morph target
    :attr:`corrective_name`), or None (rest pose, or a model without them)."""

    names: tuple[str, ...]
    parents: tuple[int, ...]
    rest: np.ndarray
    posed: np.ndarray
    joints: np.ndarray
    weights: np.ndarray
    fit: WeightFit
    pose: str
    deviation_mm: tuple[float, float]
    correctives: np.ndarray | None = None

    def __post_init__(self):
        count = len(self.names)
        if len(self.parents) != count or self.rest.shape != (count, 4, 4) \
                or self.posed.shape != self.rest.shape:
            raise SemantifyError(f"a rig needs a parent and two frames per bone; got {count} "
                                 f"names, {len(self.parents)} parents, {self.rest.shape} frames.")
        if self.joints.shape != self.weights.shape or self.weights.shape[1] not in INFLUENCES:
            raise SemantifyError(f"a rig needs (V, N) joints and weights, N in {INFLUENCES}; "
                                 f"got {self.joints.shape} and {self.weights.shape}.")
        if self.correctives is not None and self.correctives.shape != (len(self.joints), 3):
            raise SemantifyError(f"a rig's pose correctives are (V, 3) offsets, V = "
                                 f"{len(self.joints)}; got {self.correctives.shape}.")

    @property
    def corrective_name(self) -> str | None:
        """The morph target holding :attr:`correctives` (None without them)."""
        return None if self.correctives is None else f"pose_correctives_{self.pose}"

    @property
    def roots(self) -> list[int]:
        return [bone for bone, parent in enumerate(self.parents) if parent < 0]

    def local(self, frames: np.ndarray) -> np.ndarray:
        """(J, 4, 4) world frames -> each bone's frame in its parent's (a node's transform)."""
        parents = np.asarray(self.parents)
        parent_frames = np.where((parents < 0)[:, None, None], np.eye(4),
                                 frames[np.maximum(parents, 0)])
        return np.linalg.inv(parent_frames) @ frames

    def skin(self, vertices: np.ndarray, corrective: float = 1.0) -> np.ndarray:
        """(V, 3) rest vertices -> (V, 3) posed as a glTF viewer skins them: the correctives
        added at weight ``corrective`` (the GLB's default, 1), then linear blend of the bones'
        rest -> posed transforms with these weights."""
        if self.correctives is not None:
            vertices = vertices + corrective * self.correctives.astype(np.float64)
        transforms = self.posed @ np.linalg.inv(self.rest)
        blended = np.einsum("vn,vnab->vab", self.weights.astype(np.float64),
                            transforms[self.joints])
        return np.einsum("vab,vb->va", blended[:, :3, :3], vertices) + blended[:, :3, 3]


def rig_of(model, coefficients, pose, offset: np.ndarray, influences: int = 4) -> Rig:
    """The :class:`Rig` of ``model`` with (C,) ``coefficients`` in ``pose`` (a resolved
    :class:`semantify.poses.Pose`), moved by the export's (3,) ``offset``; a one-line error for
    a model without a skeleton."""
    import torch

    from semantify.poses import posed_vertices
    from semantify.poses.posing import bone_rotations, floor_lift

    if getattr(model, "skeleton", None) is None:
        raise SemantifyError(f"{model.id} has no skeleton, so it cannot be rigged; export it "
                             "without --rig (models with one: Anny, SMPL, SMPL-X, FLAME).")
    if influences not in INFLUENCES:
        raise SemantifyError(f"a rig carries {' or '.join(map(str, INFLUENCES))} bones a "
                             f"vertex, not {influences}; pass one of those.")
    coefficients = torch.as_tensor(coefficients, dtype=torch.float32)[None]
    rotations = (torch.eye(3).repeat(len(model.bone_names), 1, 1) if pose.is_rest
                 else bone_rotations(model, pose))
    correctives = None
    if not pose.is_rest and hasattr(model, "pose_correctives"):  # the SMPL family's
        correctives = model.pose_correctives(rotations).numpy().astype(np.float32)
    skinning = model.skinning(coefficients[0], rotations)
    with torch.no_grad():
        posed_ours, rest = model.skin(coefficients, rotations)
        lift = floor_lift(model, posed_ours, rest)[0]
        truth = posed_vertices(model, coefficients, pose)[0].double().numpy() + offset
    move = np.eye(4)
    move[:3, 3] = offset
    lifted = move.copy()
    lifted[1, 3] += float(lift)
    joints, weights, fit = skin_weights(model, skinning.rest.numpy(),
                                        skinning.weights.double().numpy(),
                                        rest[0].double().numpy(), influences)
    rig = Rig(tuple(model.bone_names), tuple(int(p) for p in model.bone_parents),
              move @ skinning.rest.numpy(), lifted @ skinning.posed.numpy(), joints, weights,
              fit, pose.name, (0.0, 0.0), correctives)
    error = np.linalg.norm(rig.skin(rest[0].double().numpy() + offset) - truth, axis=1) * 1000
    return dataclasses.replace(rig, deviation_mm=(float(error.mean()), float(error.max())))

