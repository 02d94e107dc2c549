"""Skin weights cut to the few bones a vertex that engines read, chosen so that linear blend
skinning with those bones follows the model's own, denser skinning across poses.

Anny blends up to 9 bones a vertex; a GLB's first weight set holds 4. Keeping the 4 largest
weights and renormalising them leaves 9 mm at the shoulders in a walk (22 mm sitting). Instead,
for every vertex with more bones than it may keep, the 4 bones and their weights (non-negative,
summing to 1) are fitted by least squares to where the model's own skinning puts that vertex
in example poses: the model's presets, seeded blends of two presets, and (counted lightly, so
that poses no preset comes near still skin sensibly) blends with every joint turned a little
further. The fit is exact over its candidates: every subset of at most 4 of the vertex's largest
bones is solved and the best feasible one kept; a small ridge towards the model's weights
settles bones that move together in every example. Wider rows (8 bones a vertex) keep their
largest weights, which already follow Anny's 9 within 0.3 mm in every preset.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np

FITTED = 4  # bones a vertex whose weights are fitted; wider rows keep their largest
CANDIDATES = 8  # a vertex's largest bones the fit chooses among
BLENDS = 48  # random blends of two presets fitted on
TURNED = 48  # random blends with every joint turned further, fitted on with TURNED_EMPHASIS
TURNED_EMPHASIS = 0.01  # their squared error counts this much of a preset's or a blend's
SPREAD_DEGREES = 5.0  # how far (on each axis) a turned pose turns a joint beyond its blend
HELD_OUT = 8  # further blends and as many turned poses, not fitted on, checked after the fit
RIDGE_M = 1e-4  # a weight moved by 1 from the model's costs as much as this RMS error (0.1 mm)
SEED = 0
_BLOCK = 256  # vertices fitted at once


@dataclasses.dataclass(frozen=True)
class WeightFit:
    """How a rig's skin weights were made from the model's: ``influences`` bones a vertex,
    ``fitted`` (least squares over example poses) or the largest kept and renormalised, on
    ``vertices`` rows that had more bones than that (``dense_bones`` at most); the ``presets``
    fitted on (with :data:`BLENDS` and :data:`TURNED` random poses drawn with ``seed``); the
    distance (mean, max mm over every vertex and pose) of the result from the model's own
    skinning in those presets, and in :data:`HELD_OUT` random blends and as many turned poses
    not fitted on."""

    influences: int
    fitted: bool
    vertices: int
    dense_bones: int
    presets: tuple[str, ...]
    seed: int
    preset_error_mm: tuple[float, float]
    blend_error_mm: tuple[float, float]
    turned_error_mm: tuple[float, float]

    @property
    def method(self) -> str:
        if not self.fitted:
            return (f"the {self.influences} largest of up to {self.dense_bones} weights a "
                    "vertex, renormalised")
        return (f"{self.influences} bones and weights a vertex fitted by least squares to the "
                f"model's {self.dense_bones}-bone skinning over {len(self.presets)} preset "
                f"poses, {BLENDS} random blends of two presets and, counted "
                f"{TURNED_EMPHASIS:g} as much, {TURNED} blends with every joint turned "
                f"~{SPREAD_DEGREES:g} degrees further (seed {self.seed})")

    def summary(self) -> str:
        """One line for the CLI."""
        def mm(pair):
            return f"{pair[0]:.2f} / {pair[1]:.2f} mm"

        return (f"skin weights: {self.method}, on the {self.vertices} vertices with more bones; "
                f"they stray from the model's skinning (mean / max) {mm(self.preset_error_mm)} "
                f"in the presets; not fitted on: {mm(self.blend_error_mm)} in {HELD_OUT} "
                f"blends, {mm(self.turned_error_mm)} in {HELD_OUT} turned poses")

    def extras(self) -> dict:
        """What a GLB's skin ``extras`` says about its weights."""
        def mm(pair):
            return {"mean": round(pair[0], 3), "max": round(pair[1], 3)}

        return {"method": self.method, "vertices": self.vertices,
                "presets": list(self.presets), "seed": self.seed,
                "preset_error_mm": mm(self.preset_error_mm),
                "held_out_poses": {"blends": HELD_OUT, "turned": HELD_OUT},
                "held_out_error_mm": {"blends": mm(self.blend_error_mm),
                                      "turned": mm(self.turned_error_mm)}}


def skin_weights(model, rest: np.ndarray, dense: np.ndarray, vertices: np.ndarray,
                 influences: int, exclude: tuple[str, ...] = ()
                 ) -> tuple[np.ndarray, np.ndarray, WeightFit]:
    """``model``'s (J, 4, 4) ``rest`` bone frames, (V, J) ``dense`` weights and (V, 3) rest
    ``vertices`` -> ((V, N) uint16 joints, (V, N) float32 weights summing to 1, its
    :class:`WeightFit`), N = ``influences``; presets named in ``exclude`` are not fitted on
    (to measure the fit on a pose it has not seen)."""
    dense = np.pad(dense, ((0, 0), (0, max(0, influences - dense.shape[1]))))
    parents = np.asarray(model.bone_parents)
    names, preset_rotations = example_rotations(model, exclude)
    rng = np.random.default_rng(SEED)
    blends = random_rotations(model, preset_rotations, BLENDS + HELD_OUT, rng, 0.0)
    turned = random_rotations(model, preset_rotations, TURNED + HELD_OUT, rng, SPREAD_DEGREES)
    presets = bone_transforms(rest, parents, preset_rotations)
    joints, weights = largest(dense, influences)
    wide = np.flatnonzero((dense > 0).sum(axis=1) > influences)
    fitted = influences <= FITTED and len(wide) > 0
    if fitted:
        examples = np.concatenate([presets, bone_transforms(rest, parents, blends[:BLENDS]),
                                   bone_transforms(rest, parents, turned[:TURNED])])
        emphasis = np.ones(len(examples))
        emphasis[-TURNED:] = TURNED_EMPHASIS
        for start in range(0, len(wide), _BLOCK):
            rows = wide[start:start + _BLOCK]
            joints[rows], weights[rows] = fit(dense[rows], vertices[rows], examples,
                                              influences, emphasis)
    weights = normalised(weights)
    errors = [_error(transforms, dense[wide], joints[wide], weights[wide], vertices[wide],
                     len(dense)) for transforms in (
        presets, bone_transforms(rest, parents, blends[BLENDS:]),
        bone_transforms(rest, parents, turned[TURNED:]))]
    record = WeightFit(influences, fitted, len(wide), int((dense > 0).sum(axis=1).max()),
                       names, SEED, *errors)
    return joints.astype(np.uint16), weights, record


def example_rotations(model, exclude: tuple[str, ...] = ()) -> tuple[tuple[str, ...],
                                                                      np.ndarray]:
    """(the names, (P, J, 3, 3) float64 bone rotations) of the presets ``model`` can show,
    rest and ``exclude`` left out."""
    from semantify.poses.posing import bone_rotations, usable_poses

    poses = [pose for pose in usable_poses(model)
             if not pose.is_rest and pose.name not in exclude]
    if not poses:
        return (), np.eye(3)[None, None].repeat(len(model.bone_names), axis=1)
    return (tuple(pose.name for pose in poses),
            np.stack([bone_rotations(model, pose).double().numpy() for pose in poses]))


def random_rotations(model, presets: np.ndarray, count: int, rng: np.random.Generator,
                     spread: float) -> np.ndarray:
    """(P, J, 3, 3) preset rotations of ``model``'s bones -> (count, J, 3, 3) random ones: each a
    blend of two presets (the same fraction for every bone, along the shortest turn), then
    every joint a pose can move turned by a further random rotation (``spread`` degrees on
    each axis; none at 0), shared along its chain of bones as a pose shares it; bones no joint
    drives stay."""
    import roma
    import torch

    from semantify.poses.records import skeleton

    first = torch.as_tensor(presets[rng.integers(len(presets), size=count)])
    second = torch.as_tensor(presets[rng.integers(len(presets), size=count)])
    fraction = torch.as_tensor(rng.uniform(size=(count, 1, 1)))
    between = roma.rotmat_to_rotvec(first.transpose(-1, -2) @ second)
    rotations = first @ roma.rotvec_to_rotmat(between * fraction)
    names = list(model.bone_names)
    for _, bones in skeleton(model.skeleton).joints:
        chain = [names.index(bone) for bone in bones if bone in names]
        turn = roma.rotvec_to_rotmat(torch.as_tensor(
            rng.normal(scale=np.radians(spread), size=(count, 3)) / max(len(chain), 1)))
        for bone in chain:
            rotations[:, bone] = turn @ rotations[:, bone]
    return rotations.numpy()


def bone_transforms(rest: np.ndarray, parents: np.ndarray, rotations: np.ndarray) -> np.ndarray:
    """(J, 4, 4) rest bone frames, (J,) parents (-1: a root) and (P, J, 3, 3) rotations (each
    bone turning about its head, in the world axes its parent carried it to, as
    :meth:`semantify.models.base.MorphableModel.skin` takes them) -> (P, J, 4, 4) skinning
    transforms (rest -> posed)."""
    heads = rest[:, :3, 3]
    local = np.broadcast_to(np.eye(4), rotations.shape[:2] + (4, 4)).copy()
    local[..., :3, :3] = rotations
    local[..., :3, 3] = heads - np.einsum("pjab,jb->pja", rotations, heads)
    world = np.empty_like(local)
    for bone in _top_down(parents):
        parent = parents[bone]
        world[:, bone] = local[:, bone] if parent < 0 else world[:, parent] @ local[:, bone]
    return world


def blend(transforms: np.ndarray, joints: np.ndarray, weights: np.ndarray,
          vertices: np.ndarray) -> np.ndarray:
    """Linear blend skinning: (P, J, 4, 4) transforms, (V, N) joints and weights, (V, 3) rest
    vertices -> (P, V, 3) posed."""
    mixed = np.zeros(transforms.shape[:1] + vertices.shape[:1] + (3, 4))
    for slot in range(joints.shape[1]):
        mixed += weights[None, :, slot, None, None] * transforms[:, joints[:, slot], :3]
    return _carried(mixed, vertices)


def largest(dense: np.ndarray, influences: int) -> tuple[np.ndarray, np.ndarray]:
    """(V, J) weights -> the (V, N) bones and weights of each row's N largest, unused slots on
    bone 0 (weight 0)."""
    joints = np.argsort(-dense, axis=1, kind="stable")[:, :influences]
    weights = np.take_along_axis(dense, joints, axis=1)
    return np.where(weights > 0, joints, 0), weights


def fit(dense: np.ndarray, vertices: np.ndarray, transforms: np.ndarray, influences: int,
        emphasis: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(V, J) dense weights, (V, 3) rest vertices and (P, J, 4, 4) example transforms (each
    pose's squared error counted (P,) ``emphasis`` times; default once) -> the (V, N) bones and
    non-negative weights summing to 1 whose skinning is nearest (least squares over the poses,
    plus the ridge towards ``dense``) to the dense skinning."""
    emphasis = np.ones(len(transforms)) if emphasis is None else emphasis
    candidates, _ = largest(dense, min(CANDIDATES, dense.shape[1]))
    valid = np.take_along_axis(dense, candidates, axis=1) > 0
    target = _skinned(transforms, dense, vertices)  # (P, V, 3)
    apart = _carried(transforms[:, candidates], vertices[:, None]) - target[:, :, None]
    apart = (np.sqrt(emphasis)[:, None, None, None] * apart).transpose(1, 2, 0, 3).reshape(
        len(dense), candidates.shape[1], -1)  # (V, K, 3P): each candidate's miss, pose by pose
    ridge = emphasis.sum() * RIDGE_M ** 2
    gram = apart @ apart.transpose(0, 2, 1) + ridge * np.eye(candidates.shape[1])
    pull = ridge * np.take_along_axis(dense, candidates, axis=1)
    best = np.full(len(dense), np.inf)
    joints = np.zeros((len(dense), influences), dtype=np.int64)
    weights = np.zeros((len(dense), influences))
    for size in range(1, min(influences, candidates.shape[1]) + 1):
        subsets = np.array(list(itertools.combinations(range(candidates.shape[1]), size)))
        found, cost = _constrained(gram[:, subsets[:, :, None], subsets[:, None, :]],
                                   pull[:, subsets])  # (V, S, size), (V, S)
        cost = np.where((found >= -1e-9).all(axis=2) & valid[:, subsets].all(axis=2), cost,
                        np.inf)
        pick = cost.argmin(axis=1)
        better = cost[np.arange(len(dense)), pick] < best
        best = np.where(better, cost[np.arange(len(dense)), pick], best)
        chosen = np.take_along_axis(candidates, subsets[pick], axis=1)
        joints[better] = np.pad(chosen, ((0, 0), (0, influences - size)))[better]
        weights[better] = np.pad(np.clip(found[np.arange(len(dense)), pick], 0, None),
                                 ((0, 0), (0, influences - size)))[better]
    order = np.argsort(-weights, axis=1, kind="stable")
    weights = np.take_along_axis(weights, order, axis=1)
    joints = np.where(weights > 0, np.take_along_axis(joints, order, axis=1), 0)
    return joints, weights / weights.sum(axis=1, keepdims=True)


def normalised(weights: np.ndarray) -> np.ndarray:
    """(V, N) weights as float32 rows summing to 1 to float32 precision (the residue of the
    rounding goes to each row's first, largest weight, which glTF validators check)."""
    out = (weights / weights.sum(axis=1, keepdims=True)).astype(np.float32)
    out[:, 0] += (1.0 - out.astype(np.float64).sum(axis=1)).astype(np.float32)
    return out


def _constrained(gram: np.ndarray, pull: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(..., k, k) positive definite ``gram`` and (..., k) ``pull`` -> the (..., k) u summing to
    1 that minimises u^T gram u - 2 pull . u, and that minimum (the constraint by its
    Lagrange multiplier)."""
    size = gram.shape[-1]
    system = np.zeros(gram.shape[:-2] + (size + 1, size + 1))
    system[..., :size, :size] = gram
    system[..., :size, size] = system[..., size, :size] = 1.0
    right = np.concatenate([pull, np.ones(pull.shape[:-1] + (1,))], axis=-1)
    found = np.linalg.solve(system, right[..., None])[..., :size, 0]
    cost = np.einsum("...k,...kl,...l->...", found, gram, found) - 2 * (pull * found).sum(-1)
    return found, cost


def _carried(transforms: np.ndarray, vertices: np.ndarray) -> np.ndarray:
    """(..., 3 or 4, 4) transforms and (..., 3) vertices (broadcast) -> (..., 3) moved."""
    return (transforms[..., :3, :3] @ vertices[..., None])[..., 0] + transforms[..., :3, 3]


def _skinned(transforms: np.ndarray, dense: np.ndarray, vertices: np.ndarray) -> np.ndarray:
    """(P, V, 3) vertices skinned with every bone of the (V, J) ``dense`` weights."""
    count = len(transforms)
    mixed = (dense @ transforms[..., :3, :].reshape(count, transforms.shape[1], 12))
    return _carried(mixed.reshape(count, len(dense), 3, 4), vertices)


def _error(transforms: np.ndarray, dense: np.ndarray, joints: np.ndarray, weights: np.ndarray,
           vertices: np.ndarray, count: int) -> tuple[float, float]:
    """(mean over ``count`` vertices, max) mm over the poses between the dense skinning of
    these (V, 3) ``vertices`` and these weights'; the ``count - V`` others, which keep all
    their bones, skin exactly."""
    if len(transforms) == 0 or len(vertices) == 0:
        return 0.0, 0.0
    apart = np.linalg.norm(blend(transforms, joints, weights.astype(np.float64), vertices)
                           - _skinned(transforms, dense, vertices), axis=-1) * 1000
    return float(apart.sum() / (len(transforms) * count)), float(apart.max())


def _top_down(parents: np.ndarray) -> list[int]:
    """The bones ordered so that every parent comes before its children."""
    depth = np.zeros(len(parents), dtype=np.int64)
    for _ in range(len(parents)):
        above = np.where(parents >= 0, depth[np.maximum(parents, 0)] + 1, 0)
        if (above == depth).all():
            break
        depth = above
    return list(np.argsort(depth, kind="stable"))
