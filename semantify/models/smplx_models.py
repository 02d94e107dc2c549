"""SMPL, SMPL-X, FLAME and SMAL (licensed files the user supplies) as morphable models.

Each file holds a skinned blendshape model in the SMPL format: ``v_template`` (V, 3),
``shapedirs`` (V, 3, K), ``posedirs`` (V, 3, 9(J-1)), ``J_regressor`` (J, V),
``kintree_table`` (2, J), ``weights`` (V, J) and ``f`` (F, 3). At rest, vertices are the
shaped template (what ``smplx.lbs.lbs`` gives at zero pose); poses (:mod:`semantify.poses`) run
``smplx.lbs.lbs``, pose blendshapes included. Files are read by
:mod:`semantify.models.model_files` (no chumpy, no arbitrary unpickling); smplx never opens them.

Coefficients are betas ``beta0..`` (range [-5, 5], default 0, drawn as the Semantify paper
does: N(0, 1) times an integer from {-2, -1, 0, 1}) and, for FLAME, expression coefficients
``expression0..`` (range [-3, 3], default 0, drawn N(0, 1)). Those draws are the models'
sampling priors (``semantify/models/priors/reference-betas.json``, ``flame*.json``), which also
reject shapes with a visible self-intersection, as the reference rejected crossed FLAME lips.
SMPL-X and FLAME files keep
shape then expression components in ``shapedirs``: the first 300 when it has 400 or more,
else the first 10 (older 10 + 10 files), as the smplx package reads them.

Frames: SMPL, SMPL-X and FLAME are already +Y up, facing +Z, in metres. SMAL is +Z up with the
animal along +X (head at +X) and its sides along ±Y; it is rotated (x, y, z) -> (y, z, x) so it
stands +Y up with its head towards +Z. For SMAL the paper drew betas as U[0, 1) times that
integer; we use the reference N(0, 1) draw, whose spread matches SMAL's unit-variance betas.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from semantify.errors import SemantifyError
from semantify.models import model_files
from semantify.models.base import Coefficient, MorphableModel, Skinning, UVMap
from semantify.models.sampling import Distribution

REQUIRED = ("v_template", "shapedirs", "posedirs", "J_regressor", "kintree_table", "weights", "f")
OPTIONAL = ("vt", "ft")
BETA_RANGE = (-5.0, 5.0)
EXPRESSION_RANGE = (-3.0, 3.0)
# SMAL (+Z up, head along +X) -> +Y up, head towards +Z: new (x, y, z) = old (y, z, x).
SMAL_TO_CANONICAL = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
GENDERS = ("neutral", "male", "female")


def _shape_error(path, key, shape, expected) -> SemantifyError:
    return SemantifyError(
        f"model file {path}: {key} has shape {tuple(shape)}, expected {expected}; "
        "the file is damaged or not a model of this kind."
    )


def check_arrays(arrays: dict, path) -> dict:
    """Check shapes of a skinned model's arrays; return them as float64/int64 numpy."""
    out = {k: np.asarray(arrays[k]) for k in REQUIRED}
    try:
        for key in ("v_template", "shapedirs", "posedirs", "weights", "J_regressor"):
            out[key] = out[key].astype(np.float64)
        for key in ("f", "kintree_table"):
            out[key] = out[key].astype(np.int64)
    except (TypeError, ValueError) as error:
        raise SemantifyError(f"model file {path}: non-numeric array ({error}); re-download it.")
    template = out["v_template"]
    if template.ndim != 2 or template.shape[1] != 3:
        raise _shape_error(path, "v_template", template.shape, "(V, 3)")
    v = template.shape[0]
    if out["shapedirs"].ndim == 2 and out["shapedirs"].shape[:2] == (v, 3):
        out["shapedirs"] = out["shapedirs"][:, :, None]
    if out["shapedirs"].ndim != 3 or out["shapedirs"].shape[:2] != (v, 3):
        raise _shape_error(path, "shapedirs", out["shapedirs"].shape, f"({v}, 3, K)")
    j = out["J_regressor"].shape[0]
    if out["J_regressor"].shape != (j, v) or j < 1:
        raise _shape_error(path, "J_regressor", out["J_regressor"].shape, f"(J, {v})")
    if out["kintree_table"].shape != (2, j):
        raise _shape_error(path, "kintree_table", out["kintree_table"].shape, f"(2, {j})")
    if out["weights"].shape != (v, j):
        raise _shape_error(path, "weights", out["weights"].shape, f"({v}, {j})")
    if out["posedirs"].shape != (v, 3, 9 * (j - 1)):
        raise _shape_error(path, "posedirs", out["posedirs"].shape, f"({v}, 3, {9 * (j - 1)})")
    faces = out["f"]
    if faces.ndim != 2 or faces.shape[1] != 3 or faces.min() < 0 or faces.max() >= v:
        raise _shape_error(path, "f", faces.shape, f"(F, 3) indices below {v}")
    parents = out["kintree_table"][0, 1:]
    if (parents < 0).any() or (parents >= np.arange(1, j)).any():
        raise SemantifyError(
            f"model file {path}: kintree_table parents must precede their joints; re-download it."
        )
    return out


def _uv_map(arrays: dict, num_faces: int) -> UVMap | None:
    vt, ft = arrays.get("vt"), arrays.get("ft")
    if vt is None or ft is None:
        return None
    vt, ft = np.asarray(vt, np.float32), np.asarray(ft, np.int64)
    if vt.ndim != 2 or vt.shape[1] != 2 or ft.shape != (num_faces, 3) or ft.max() >= len(vt):
        return None
    return UVMap(vt, ft)


class SkinnedModel(MorphableModel):
    """A skinned blendshape model in the SMPL file format, at rest its shaped template.

    ``columns`` picks the shapedirs components the coefficients drive, in order.
    ``skeleton_id`` names the skeleton file that poses it (None: rest pose only).
    """

    def __init__(self, model_id, name, family, framing, arrays, columns, coefficients,
                 distribution, to_canonical=None, prior_name: str = "reference-betas",
                 skeleton_id: str | None = None):
        super().__init__()
        self.id, self.name, self.family, self.framing = model_id, name, family, framing
        self.prior_name = prior_name
        self.coefficients = tuple(coefficients)
        self.distribution = distribution
        f32 = torch.float32
        num_pose = arrays["posedirs"].shape[-1]
        self.register_buffer("v_template", torch.tensor(arrays["v_template"], dtype=f32))
        self.register_buffer(
            "shapedirs", torch.tensor(arrays["shapedirs"][:, :, columns], dtype=f32))
        self.register_buffer(
            "posedirs", torch.tensor(arrays["posedirs"].reshape(-1, num_pose).T, dtype=f32))
        self.register_buffer("J_regressor", torch.tensor(arrays["J_regressor"], dtype=f32))
        parents = torch.tensor(arrays["kintree_table"][0], dtype=torch.long)
        parents[0] = -1
        self.register_buffer("parents", parents)
        self.register_buffer("lbs_weights", torch.tensor(arrays["weights"], dtype=f32))
        self.register_buffer("faces", torch.tensor(arrays["f"], dtype=torch.int64))
        rotation = np.eye(3) if to_canonical is None else to_canonical
        self.register_buffer("to_canonical", torch.tensor(rotation, dtype=f32))
        self.uv_map = _uv_map(arrays, len(arrays["f"]))
        self._use_skeleton(skeleton_id)

    def _vertices(self, coefficients: torch.Tensor) -> torch.Tensor:
        from smplx.lbs import blend_shapes

        with torch.no_grad():  # smplx's LBS at zero pose is exactly the shaped template
            vertices = self.v_template + blend_shapes(coefficients, self.shapedirs)
        return vertices @ self.to_canonical.T

    def _use_skeleton(self, skeleton_id: str | None) -> None:
        """Pose with the skeleton file ``skeleton_id`` if it names as many bones as we have."""
        from semantify.poses.records import skeleton

        bones = skeleton(skeleton_id).bones if skeleton_id else ()
        if len(bones) == self.parents.shape[0]:
            self.skeleton, self.bone_names = skeleton_id, bones
            self.bone_parents = tuple(int(p) for p in self.parents)

    def joint_positions(self, coefficients: torch.Tensor) -> torch.Tensor:
        if self.skeleton is None:
            return super().joint_positions(coefficients)
        return torch.einsum("jv,bvd->bjd", self.J_regressor, self.forward(coefficients))

    def skin(self, coefficients: torch.Tensor, rotations: torch.Tensor):
        """smplx's LBS (with the pose blendshapes) at the given joint rotations."""
        from smplx.lbs import lbs

        if self.skeleton is None:
            return super().skin(coefficients, rotations)
        coefficients = self.validate(coefficients).to(self.v_template.device)
        local = self.to_canonical.T @ rotations.float() @ self.to_canonical
        pose = local.expand(len(coefficients), -1, -1, -1)
        with torch.no_grad():
            posed, _ = lbs(coefficients, pose, self.v_template, self.shapedirs, self.posedirs,
                           self.J_regressor, self.parents, self.lbs_weights, pose2rot=False)
        return posed @ self.to_canonical.T, self._vertices(coefficients)

    def skinning(self, coefficients: torch.Tensor, rotations: torch.Tensor) -> Skinning:
        """The joints smplx regresses for this shape (rest frames unrotated), posed by its
        kinematic chain; the pose correctives (``posedirs``) are not part of it: see
        :meth:`pose_correctives`."""
        from smplx.lbs import batch_rigid_transform, blend_shapes

        if self.skeleton is None:
            return super().skinning(coefficients, rotations)
        coefficients = self.validate(coefficients)[:1].to(self.v_template.device)
        local = self.to_canonical.T @ rotations.float() @ self.to_canonical
        with torch.no_grad():
            shaped = self.v_template + blend_shapes(coefficients, self.shapedirs)
            joints = torch.einsum("jv,bvd->bjd", self.J_regressor, shaped)
            _, transforms = batch_rigid_transform(local[None], joints, self.parents)
        turn = torch.eye(4, dtype=torch.float64)
        turn[:3, :3] = self.to_canonical.double()
        rest = torch.eye(4, dtype=torch.float64).repeat(len(self.parents), 1, 1)
        rest[:, :3, 3] = joints[0].double()
        return Skinning(turn @ rest, turn @ transforms[0].double() @ rest,
                        self.lbs_weights.float())

    def pose_correctives(self, rotations: torch.Tensor) -> torch.Tensor:
        """(J, 3, 3) bone rotations (as :meth:`skin` takes them) -> (V, 3) float64 rest-space
        vertex offsets (model axes, metres) that smplx adds before skinning in that pose: the
        pose blendshapes, ``posedirs`` times the non-root rotations minus identity (zero at
        rest; they do not depend on the shape). Skinning (rest + these) with
        :meth:`skinning`'s frames and weights gives :meth:`skin`'s posed vertices."""
        if self.skeleton is None:
            raise SemantifyError(f"{self.id} has no skeleton, so it has no pose correctives.")
        local = self.to_canonical.T @ rotations.float().to(self.v_template.device) \
            @ self.to_canonical
        feature = (local[1:] - torch.eye(3, device=local.device)).reshape(1, -1)
        with torch.no_grad():
            offsets = (feature @ self.posedirs).reshape(-1, 3)
        return offsets.double().cpu() @ self.to_canonical.T.double().cpu()


def _load(kind: str, gender: str = "neutral") -> tuple[dict, Path]:
    path = model_files.expected_path(kind, gender)
    if not path.is_file():
        raise SemantifyError(f"{kind} model file missing: {model_files.missing_hint(path)}.")
    arrays = model_files.read_arrays(path, REQUIRED, OPTIONAL)
    return check_arrays(arrays, path) | {k: arrays[k] for k in OPTIONAL if k in arrays}, path


def _count(requested, available: int, what: str, model_id: str, path, option: str) -> int:
    if isinstance(requested, bool) or not isinstance(requested, (int, np.integer)) \
            or requested < 1:
        raise SemantifyError(f"{option} must be a positive integer, got {requested!r}.")
    if requested > available:
        raise SemantifyError(
            f"{model_id} has at most {available} {what} in {path}; pass {option}<={available}."
        )
    return int(requested)


def _split(total: int) -> int:
    """Shape components of a SMPL-X/FLAME shapedirs holding shape then expression."""
    return 300 if total >= 400 else min(total, 10)


def _betas(n: int) -> list[Coefficient]:
    return [Coefficient(f"beta{i}", *BETA_RANGE, 0.0) for i in range(n)]


def _check_gender(gender: str) -> str:
    if gender not in GENDERS:
        raise SemantifyError(f"unknown gender {gender!r}; choose one of {', '.join(GENDERS)}.")
    return gender


def smpl(gender: str = "neutral", num_betas: int = 10) -> SkinnedModel:
    """SMPL body: ``num_betas`` shape coefficients (up to what the file has)."""
    arrays, path = _load("smpl", _check_gender(gender))
    model_id = f"smpl-{gender}"
    n = _count(num_betas, arrays["shapedirs"].shape[-1], "betas", model_id, path, "num_betas")
    return SkinnedModel(model_id, f"SMPL {gender}", "body", "body", arrays, np.arange(n),
                        _betas(n), Distribution("reference"), skeleton_id="smpl")


def smplx(gender: str = "neutral", num_betas: int = 10) -> SkinnedModel:
    """SMPL-X body: ``num_betas`` shape coefficients (expression stays neutral)."""
    arrays, path = _load("smplx", _check_gender(gender))
    model_id = f"smplx-{gender}"
    available = _split(arrays["shapedirs"].shape[-1])
    n = _count(num_betas, available, "betas", model_id, path, "num_betas")
    return SkinnedModel(model_id, f"SMPL-X {gender}", "body", "body", arrays, np.arange(n),
                        _betas(n), Distribution("reference"), skeleton_id="smplx")


FLAME_PARTS = {"shape": ("flame-shape", "face"), "expression": ("flame-expression", "expression"),
               "both": ("flame", "face")}


def flame(part: str = "both", num_betas: int = 10, num_expression: int = 10) -> SkinnedModel:
    """FLAME head: shape betas, expression coefficients, or both (betas first)."""
    if part not in FLAME_PARTS:
        raise SemantifyError(
            f"unknown FLAME part {part!r}; choose one of {', '.join(FLAME_PARTS)}.")
    arrays, path = _load("flame")
    model_id, family = FLAME_PARTS[part]
    total = arrays["shapedirs"].shape[-1]
    n_shape = _split(total)
    columns, coefficients, groups = [], [], []
    if part in ("shape", "both"):
        nb = _count(num_betas, n_shape, "shape betas", model_id, path, "num_betas")
        columns += range(nb)
        coefficients += _betas(nb)
        groups.append((slice(0, nb), Distribution("reference")))
    if part in ("expression", "both"):
        ne = _count(num_expression, total - n_shape, "expression coefficients", model_id, path,
                    "num_expression")
        start = len(columns)
        columns += range(n_shape, n_shape + ne)
        coefficients += [Coefficient(f"expression{i}", *EXPRESSION_RANGE, 0.0) for i in range(ne)]
        groups.append((slice(start, start + ne), Distribution("normal")))
    name = {"shape": "FLAME shape", "expression": "FLAME expression",
            "both": "FLAME shape + expression"}[part]
    prior = {"shape": "reference-betas", "expression": "flame-expression", "both": "flame"}[part]
    return SkinnedModel(model_id, name, family, "head", arrays, np.array(columns), coefficients,
                        groups, prior_name=prior, skeleton_id="flame")


def smal(num_betas: int = 10) -> SkinnedModel:
    """SMAL quadruped: ``num_betas`` shape coefficients, turned +Y up with its head to +Z."""
    arrays, path = _load("smal")
    n = _count(num_betas, arrays["shapedirs"].shape[-1], "betas", "smal", path, "num_betas")
    return SkinnedModel("smal", "SMAL animals", "animal", "animal", arrays, np.arange(n),
                        _betas(n), Distribution("reference"), SMAL_TO_CANONICAL)
