"""Anny, the open default (Apache-2.0 code, CC0 assets), as three morphable models.

All three share one Anny build (every local change and facial action, float32), cached by
anny under ``ANNY_CACHE_DIR``. Left/right local changes are tied into one symmetric
coefficient, so sampled bodies and faces stay symmetric.
"""

from __future__ import annotations

import fnmatch
import functools
import re

import numpy as np
import torch

from semantify.errors import SemantifyError
from semantify.models.base import Coefficient, MorphableModel, Skinning, UVMap
from semantify.models.sampling import Distribution

PHENOTYPES = ("gender", "age", "muscle", "weight", "height", "proportions")
# The coefficients that move stature, chest, waist, hips and mass, which metric refinement may
# use: the phenotypes, the torso and leg "measure-" changes and the torso/hip scales; and the
# arm, forearm and shoulder lengths, with which it holds the lengths nobody asked for.
REFINABLE = PHENOTYPES + (
    "measure-upperarm-length-incr", "measure-lowerarm-length-incr", "measure-shoulder-dist-incr",
    "measure-bust-circ-incr", "measure-underbust-circ-incr", "measure-waist-circ-incr",
    "measure-hips-circ-incr", "measure-upperleg-height-incr", "measure-lowerleg-height-incr",
    "measure-napetowaist-dist-incr", "measure-thigh-circ-incr",
    "torso-scale-horiz-incr", "torso-scale-depth-incr",
    "hip-scale-horiz-incr", "hip-scale-depth-incr",
)
# Adult ages only: Anny's age runs newborn (-1/3), baby (0), child (1/3), young (2/3), old (1).
PHENOTYPE_RANGES = {"age": (0.5, 1.0, 0.6)}
FACE_PARTS = ("cheek", "chin", "ear", "eye", "eyebrows", "forehead", "head", "mouth", "nose",
              "neck")
SKIPPED_PARTS = ("hand", "foot", "nipple", "bulge")
# At full-body framing a face, a hand or a foot spans a few pixels: intersections there (lips,
# fingers, toes) cannot be seen, so anny-body's self-intersection check leaves them out.
BODY_SCALE_UNSEEN_BONES = ("head", "neck*", "eye.*", "finger*", "metacarpal*", "toe*")
# Anny is Z-up and faces -Y: rotate -90 degrees about X to get Y-up, facing +Z.
TO_CANONICAL = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])


@functools.cache
def anny_module():
    """The shared Anny module (built once per process; ~1 min the first time ever).

    A damaged cache file (a build killed while anny wrote it in place) is deleted and rebuilt
    once; if that fails too, the error says which folder to delete.
    """
    from semantify.compat import quiet_native_stderr

    with quiet_native_stderr():  # no GPU: warp prints a CUDA banner from native code
        import warp

        warp.config.log_level = warp.LOG_ERROR
        import anny

        try:
            return _build(anny)
        except Exception:  # noqa: BLE001 - safetensors and torch raise several types
            damaged = _damaged_cache_files()
            if not damaged:
                raise
        for path in damaged:
            path.unlink(missing_ok=True)
        try:
            return _build(anny)
        except Exception as error:  # noqa: BLE001
            from anny.paths import get_anny_cache_path

            raise SemantifyError(
                f"Anny's cache in {get_anny_cache_path()} is damaged ({type(error).__name__}); "
                "delete that folder and run again (it rebuilds in about a minute).") from None


def _build(anny):
    return anny.Anny(local_changes="all", facial_actions="all").to(torch.float32).eval()


def _damaged_cache_files() -> list:
    """Cache files of anny's that safetensors cannot read."""
    from anny.paths import get_anny_cache_path
    from safetensors import safe_open

    root = get_anny_cache_path()
    damaged = []
    for path in sorted(root.rglob("*.safetensors")) if root and root.is_dir() else []:
        try:
            with safe_open(str(path), "pt") as file:
                for key in file.keys():
                    file.get_tensor(key)
        except Exception:  # noqa: BLE001 - any failure to read means a damaged file
            damaged.append(path)
    return damaged


def _part(label: str) -> str:
    """Body part of a local change label: 'l-upperarm-fat-incr' -> 'upperarm'."""
    name = re.sub(r"^[lr]-", "", label)
    return name.split("-")[1] if name.startswith("measure-") else name.split("-")[0]


def symmetric_groups(labels: list[str], keep) -> dict[str, list[int]]:
    """Group l-/r- label pairs into one name each: {'upperarm-fat-incr': [i_l, i_r], ...}."""
    groups: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        if keep(_part(label)):
            groups.setdefault(re.sub(r"^[lr]-", "", label), []).append(i)
    return groups


class AnnyModel(MorphableModel):
    """An Anny model exposing phenotypes, some local changes and/or facial actions."""

    def __init__(self, model_id, name, family, phenotypes, local_keep, facial_actions, framing):
        super().__init__()
        anny = anny_module()
        self.id, self.name, self.family, self.framing = model_id, name, family, framing
        self.skeleton = "anny"
        self._phenotypes = tuple(phenotypes)
        self.featured = self._phenotypes
        self.prior_name = model_id
        self.refinable = REFINABLE if phenotypes else ()
        lc = symmetric_groups(anny.local_change_labels, local_keep) if local_keep else {}
        fa = list(anny.facial_action_labels) if facial_actions else []
        lc_map = torch.zeros(len(lc), len(anny.local_change_labels))
        for row, columns in enumerate(lc.values()):
            lc_map[row, columns] = 1.0
        self.register_buffer("_lc_map", lc_map, persistent=False)
        self.coefficients = tuple(
            [Coefficient(p, *PHENOTYPE_RANGES.get(p, (0.0, 1.0, 0.5))) for p in phenotypes]
            + [Coefficient(n, -1.0, 1.0, 0.0) for n in lc]
            + [Coefficient(n, 0.0, 1.0, 0.0) for n in fa]
        )
        n_ph, n_lc = len(phenotypes), len(lc)
        self.distribution = [
            (slice(0, n_ph), Distribution("uniform")),
            (slice(n_ph, n_ph + n_lc), Distribution("sparse", active=0.15)),
            (slice(n_ph + n_lc, None), Distribution("sparse", active=0.3)),
        ]
        self._n_ph, self._n_lc = n_ph, n_lc
        self._init_basis(anny, sorted(i for cols in lc.values() for i in cols), bool(fa))
        self.register_buffer("faces", anny.faces.clone(), persistent=False)
        if anny.texture_coordinates is not None:
            self.uv_map = UVMap(
                anny.texture_coordinates.numpy().astype(np.float32),
                anny.face_texture_coordinate_indices.numpy().astype(np.int64),
            )

    def self_intersection_faces(self) -> np.ndarray | None:
        """For bodies, the faces not dominated by a head, neck, finger or toe bone."""
        if self.framing != "body":
            return None
        anny = anny_module()
        bones = anny.vertex_bone_indices.numpy()
        dominant = bones[np.arange(len(bones)), anny.vertex_bone_weights.numpy().argmax(axis=1)]
        unseen = np.array([any(fnmatch.fnmatchcase(label, pattern)
                               for pattern in BODY_SCALE_UNSEEN_BONES)
                           for label in anny.bone_labels])
        return ~unseen[dominant][self.faces.cpu().numpy()].all(axis=1)

    def _init_basis(self, anny, local_used: list[int], facial: bool) -> None:
        """Keep only the blendshapes this model can move; fold constant ones into the template.

        Anny's 700 blendshapes make its forward pass memory-bound; anny-body needs 272 of them.
        """
        n_ph = anny.phenotype_blendshape_projection.shape[1]
        n_fa = len(anny.facial_action_labels)
        constant = list(range(n_ph)) if not self._phenotypes else []
        columns = (list(range(n_ph)) if self._phenotypes else [])
        columns += list(range(n_ph, n_ph + n_fa)) if facial else []
        columns += [n_ph + n_fa + 2 * i + side for i in local_used for side in (0, 1)]
        template = anny.template_vertices.clone()
        if constant:  # default phenotypes: one fixed offset
            phenotypes = torch.full((1, len(anny.phenotype_labels)), 0.5)
            weights = _blendshape_weights(anny, phenotypes, torch.zeros(1, len(
                anny.local_change_labels)), torch.zeros(1, n_fa))[:, constant]
            template += torch.einsum("cpd,bc->pd", anny.blendshapes[constant], weights)
        self.register_buffer("_template", template, persistent=False)
        self.register_buffer("_basis", anny.blendshapes[columns].contiguous(), persistent=False)
        self._columns = torch.tensor(columns, dtype=torch.long)

    def _weights(self, coefficients: torch.Tensor) -> torch.Tensor:
        """(B, C) coefficients -> (B, W) weights of all of Anny's blendshapes."""
        anny = anny_module()
        batch = coefficients.shape[0]
        phenotypes = torch.full((batch, len(anny.phenotype_labels)), 0.5)
        for i, name in enumerate(self._phenotypes):
            phenotypes[:, anny.phenotype_labels.index(name)] = coefficients[:, i]
        local = coefficients[:, self._n_ph : self._n_ph + self._n_lc] @ self._lc_map
        facial = torch.zeros(batch, len(anny.facial_action_labels))
        if self._n_ph + self._n_lc < coefficients.shape[1]:
            facial = coefficients[:, self._n_ph + self._n_lc :]
        return _blendshape_weights(anny, phenotypes, local, facial)

    def _rest(self, weights: torch.Tensor) -> torch.Tensor:
        """(B, W) blendshape weights -> (B, V, 3) rest vertices in Anny's frame (Z up)."""
        return self._template + torch.einsum("cpd,bc->bpd", self._basis, weights[:, self._columns])

    def _vertices(self, coefficients: torch.Tensor) -> torch.Tensor:
        # Gradients flow only when asked for (training through the model); else skip autograd.
        with torch.set_grad_enabled(torch.is_grad_enabled() and coefficients.requires_grad):
            vertices = self._rest(self._weights(coefficients))
        return vertices @ TO_CANONICAL.T

    def skin_texture(self):
        from semantify.models.anny_skin import skin_texture

        return skin_texture()

    @property
    def bone_names(self) -> tuple[str, ...]:
        return tuple(anny_module().bone_labels)

    @property
    def bone_parents(self) -> tuple[int, ...]:
        return tuple(anny_module().bone_parents)

    def joint_positions(self, coefficients: torch.Tensor) -> torch.Tensor:
        coefficients = self.validate(coefficients)
        with torch.no_grad():
            bones, _ = _rest_bones(anny_module(), self._weights(coefficients))
        return bones[..., :3, 3] @ TO_CANONICAL.T

    def skin(self, coefficients: torch.Tensor, rotations: torch.Tensor):
        """Anny's own skeleton and skinning (its cached bone frames, its LBS): rest bones from
        the blendshape weights, forward kinematics with ``rotations`` about each bone's head
        in world axes carried by its parent, then linear blend skinning."""
        anny = anny_module()
        coefficients = self.validate(coefficients)
        with torch.set_grad_enabled(torch.is_grad_enabled() and coefficients.requires_grad):
            weights = self._weights(coefficients)
            rest = self._rest(weights)
            transforms, _, _ = _kinematics(anny, weights, rotations)
            posed = anny.get_skinned_vertices(rest, transforms)
        return posed @ TO_CANONICAL.T, rest @ TO_CANONICAL.T

    def skinning(self, coefficients: torch.Tensor, rotations: torch.Tensor) -> Skinning:
        """Anny's bone frames for this shape (rest and posed, as :meth:`skin` computes them)
        and its skin weights (up to 9 bones a vertex)."""
        anny = anny_module()
        coefficients = self.validate(coefficients)[:1]
        with torch.no_grad():
            _, posed, rest = _kinematics(anny, self._weights(coefficients), rotations)
        turn = torch.eye(4, dtype=torch.float64)
        turn[:3, :3] = TO_CANONICAL
        weights = torch.zeros(len(anny.vertex_bone_weights), len(anny.bone_labels))
        weights.scatter_add_(1, anny.vertex_bone_indices.long(), anny.vertex_bone_weights.float())
        return Skinning(turn @ rest[0].double(), turn @ posed[0].double(), weights)


def _kinematics(anny, weights: torch.Tensor, rotations: torch.Tensor):
    """(B, W) blendshape weights and (J, 3, 3) rotations (model axes) -> (B, J, 4, 4) skinning
    transforms, posed bone frames and rest bone frames, in Anny's frame (Z up)."""
    from anny.utils import kinematics

    rest_bones, _ = _rest_bones(anny, weights)
    deltas = torch.zeros(len(weights), len(anny.bone_labels), 4, 4)
    deltas[:, :, :3, :3] = TO_CANONICAL.T @ rotations.float() @ TO_CANONICAL
    deltas[:, :, 3, 3] = 1.0
    deltas[:, 0, :3, 3] = rest_bones[:, 0, :3, 3]  # the root turns about its own head
    chain = (anny.kinematic_chain_levels, anny.kinematic_chain_indices)
    transforms, posed = kinematics.forward_kinematic(chain, rest_bones, deltas, "local-ref")
    return transforms, posed, rest_bones


def _rest_bones(anny, weights: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, W) blendshape weights -> (B, J, 4, 4) rest bone poses (Anny's frame) and (B, J, 3, 3)
    orientations, as ``Anny._get_cached_rest_model`` computes them, without its full-size
    rest vertices."""
    import roma

    heads_basis, orientation_basis = _bone_bases(anny)
    count = len(anny.bone_labels)
    heads = (anny.template_bone_heads.reshape(1, -1) + weights @ heads_basis).reshape(-1, count, 3)
    covariance = (anny.bone_template_orientation_matrices.reshape(1, -1)
                  + weights @ orientation_basis).reshape(-1, count, 3, 3)
    # The SVD solver: for a few hundred 3x3 matrices it is the faster of roma's two (the same
    # rotations to float precision), and it does not crawl on a busy machine.
    orientations = roma.special_procrustes(covariance, method="svd")
    if anny.root_identity_orientation:
        orientations = torch.cat([torch.eye(3).expand(len(weights), 1, 3, 3),
                                  orientations[:, 1:]], dim=1)
    poses = roma.Rigid(linear=orientations, translation=heads).to_homogeneous()
    return poses, orientations


@functools.cache
def _bone_bases(anny) -> tuple[torch.Tensor, torch.Tensor]:
    """Anny's bone head and orientation blendshapes as contiguous (W, J*3) and (W, J*9)
    matrices, so that one matrix product per batch gives every bone's rest state."""
    return (anny.bone_heads_blendshapes.reshape(len(anny.bone_heads_blendshapes), -1).contiguous(),
            anny.bone_orientation_blendshapes.reshape(
                len(anny.bone_orientation_blendshapes), -1).contiguous())


def _blendshape_weights(anny, phenotypes, local, facial) -> torch.Tensor:
    """(B, W) Anny blendshape weights, as ``Anny._get_phenotype_blendshape_coefficients``
    computes them but with its per-local-change Python loop vectorised.

    phenotypes (B, P), local (B, L) and facial (B, A) -> [phenotype weights, facial actions,
    (max(l, 0), max(-l, 0)) interleaved per local change].
    """
    from anny.models.phenotype import phenotype_blendshape_weights

    weights = phenotype_blendshape_weights(
        phenotypes, anny.phenotype_labels, anny.anchors,
        anny.stacked_phenotype_blend_shapes_mask, extrapolate=anny.extrapolate_phenotypes)
    if anny.phenotype_blendshape_projection is not None:
        weights = weights @ anny.phenotype_blendshape_projection
    groups = [weights]
    if anny.facial_action_labels:
        groups.append(facial)
    if anny.local_change_labels:
        # Anny's ReLU keeps a gradient of 1 at zero (no dead local changes): keep it so.
        pair = torch.stack([local * (local >= 0), -local * (-local >= 0)], dim=2)
        groups.append(pair.reshape(local.shape[0], -1))
    return torch.cat(groups, dim=1)


def anny_body() -> AnnyModel:
    return AnnyModel(
        "anny-body", "Anny body (phenotypes + body local changes)", "body", PHENOTYPES,
        lambda part: part not in FACE_PARTS + SKIPPED_PARTS, facial_actions=False,
        framing="body",
    )


def anny_face_shape() -> AnnyModel:
    return AnnyModel(
        "anny-face-shape", "Anny face and head shape (local changes)", "face", (),
        lambda part: part in FACE_PARTS, facial_actions=False, framing="head",
    )


def anny_face_expression() -> AnnyModel:
    return AnnyModel(
        "anny-face-expression", "Anny facial expression (52 ARKit actions)", "expression", (),
        None, facial_actions=True, framing="head",
    )
