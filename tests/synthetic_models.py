"""Tiny synthetic model files in the exact formats of the licensed ones, for tests and benches.

The real SMPL, SMPL-X, FLAME and SMAL files cannot ship with the project, so these writers
produce small stand-ins with the same keys, dtypes, shape conventions and joint counts
(SMPL 24 joints and 10 betas; SMPL-X 55 joints and 300 + 100 shape/expression components;
FLAME 5 joints and 300 + 100; SMAL 33 joints and 41 betas), a few hundred vertices each.
The original ``.pkl`` files pickle chumpy ``Ch`` objects and scipy CSC matrices (Python 2,
read with latin1); :func:`write_pickle` imitates that with look-alike classes registered
under the real module names only while pickling, so readers meet the same class references.

Use in tests: ``import synthetic_models`` (pytest puts ``tests/`` on the path), then
``synthetic_models.write_model_tree(tmp_path)`` and set ``SEMANTIFY_MODELS_DIR`` to it.
"""

from __future__ import annotations

import contextlib
import pickle
import sys
import types
from pathlib import Path

import numpy as np

# (joints, shapedirs components) of each kind.
SPECS = {"smpl": (24, 10), "smplx": (55, 400), "flame": (5, 400), "smal": (33, 41)}
# Sphere (rings, segments) giving about the real vertex counts (6890, 10475, 5023, 3889).
REAL_SIZE = {"smpl": (83, 84), "smplx": (103, 103), "flame": (72, 71), "smal": (63, 63)}
TINY = (12, 16)
# Layout written by write_model_tree: relative path -> (kind, format).
TREE = {
    "smpl/SMPL_NEUTRAL.pkl": ("smpl", "chumpy-pkl"),
    "smpl/SMPL_MALE.npz": ("smpl", "npz"),
    "smpl/SMPL_FEMALE.pkl": ("smpl", "chumpy-pkl"),
    "smplx/SMPLX_NEUTRAL.npz": ("smplx", "npz"),
    "smplx/SMPLX_MALE.npz": ("smplx", "npz"),
    "smplx/SMPLX_FEMALE.pkl": ("smplx", "pkl"),
    "flame/generic_model.pkl": ("flame", "chumpy-pkl"),
    "smal/smal_CVPR2017.pkl": ("smal", "chumpy-pkl-protocol1"),
}


def sphere(rings: int = 12, segments: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Unit UV sphere: (2 + (rings-1)*segments, 3) float64 vertices, (F, 3) int64 faces
    wound counter-clockwise seen from outside; poles on ±Y."""
    theta = np.linspace(0, np.pi, rings + 1)[1:-1]
    phi = np.linspace(0, 2 * np.pi, segments, endpoint=False)
    t, p = np.meshgrid(theta, phi, indexing="ij")
    ring = np.stack([np.sin(t) * np.sin(p), np.cos(t), np.sin(t) * np.cos(p)], -1).reshape(-1, 3)
    vertices = np.concatenate([[[0, 1, 0]], ring, [[0, -1, 0]]])
    faces, bottom = [], len(vertices) - 1
    for s in range(segments):
        s2 = (s + 1) % segments
        faces.append([0, 1 + s, 1 + s2])
        for r in range(rings - 2):
            a, b = 1 + r * segments + s, 1 + r * segments + s2
            faces += [[a, a + segments, b], [b, a + segments, b + segments]]
        last = 1 + (rings - 2) * segments
        faces.append([last + s, bottom, last + s2])
    return vertices, np.array(faces, dtype=np.int64)


def _template(kind: str, unit: np.ndarray) -> np.ndarray:
    """A rough shape of each kind in its model's native frame, metres."""
    x, y, z = unit.T
    if kind in ("smpl", "smplx"):  # body: +Y up, facing +Z, pelvis near the origin
        return np.stack([0.2 * x, 0.85 * y - 0.25, 0.12 * z + 0.03 * (z > 0.5)], -1)
    if kind == "flame":  # head with a nose bump at +Z
        return np.stack([0.08 * x, 0.11 * y, 0.09 * z + 0.03 * np.clip(z - 0.8, 0, None) / 0.2], -1)
    # SMAL: +Z up, body along X, head raised at +X, sides along ±Y (unit sphere's y -> X).
    length, side, up = 0.5 * y, 0.15 * x, 0.2 * z
    return np.stack([length, side, up + 0.15 * np.clip(y - 0.6, 0, None) / 0.4], -1)


def skinned_arrays(kind: str, seed: int = 0, real_size: bool = False) -> dict:
    """The arrays of a SMPL-format file of ``kind`` (smpl, smplx, flame, smal): 178 vertices,
    or about as many as the real model with ``real_size``."""
    joints, components = SPECS[kind]
    rng = np.random.default_rng([seed, len(kind)])
    unit, faces = sphere(*(REAL_SIZE[kind] if real_size else TINY))
    template = _template(kind, unit)
    v = len(template)
    # Joints: weighted means of 4 vertices each; parents form a binary tree (parent < child).
    anchors = rng.choice(v, size=(joints, 4), replace=True)
    regressor = np.zeros((joints, v))
    np.add.at(regressor, (np.repeat(np.arange(joints), 4), anchors.ravel()), 0.25)
    joint_positions = regressor @ template
    parents = np.r_[4294967295, (np.arange(1, joints) - 1) // 2].astype(np.int64)
    kintree = np.stack([parents, np.arange(joints)])
    distance = ((template[:, None] - joint_positions[None]) ** 2).sum(-1)
    weights = np.exp(-(distance - distance.min(1, keepdims=True)) / 0.01)
    weights /= weights.sum(1, keepdims=True)
    features = np.concatenate([np.ones((v, 1)), template, template ** 2,
                               template[:, [0, 1, 2]] * template[:, [1, 2, 0]]], 1)
    shapedirs = np.einsum("vf,kfc->vck", features, 0.004 * rng.standard_normal((components, 10, 3)))
    scale = 0.03 * template / np.abs(template).max()
    shapedirs[:, :, 0] = scale  # first component: overall size, a meaningful direction
    posedirs = 0.001 * rng.standard_normal((v, 3, 9 * (joints - 1)))
    return {"v_template": template, "shapedirs": shapedirs, "posedirs": posedirs,
            "J_regressor": regressor, "kintree_table": kintree, "weights": weights,
            "f": faces.astype(np.uint32), "J": joint_positions,
            "bs_style": "lbs", "bs_type": "lrotmin"}


def smplx_extras(arrays: dict, seed: int = 0) -> dict:
    """The extra keys of a real SMPL-X .npz (hands PCA, landmarks, UVs, name maps)."""
    rng = np.random.default_rng([seed, 99])
    faces = arrays["f"].astype(np.int64)
    uv = rng.random((len(arrays["v_template"]), 2))
    return {
        "hands_componentsl": rng.standard_normal((45, 45)),
        "hands_componentsr": rng.standard_normal((45, 45)),
        "hands_meanl": rng.standard_normal(45), "hands_meanr": rng.standard_normal(45),
        "hands_coeffsl": rng.standard_normal((10, 45)),
        "hands_coeffsr": rng.standard_normal((10, 45)),
        "lmk_faces_idx": rng.integers(0, len(faces), 51).astype(np.uint32),
        "lmk_bary_coords": np.full((51, 3), 1 / 3),
        "dynamic_lmk_faces_idx": rng.integers(0, len(faces), (79, 17)).astype(np.uint32),
        "dynamic_lmk_bary_coords": np.full((79, 17, 3), 1 / 3),
        "vt": uv, "ft": faces,
        "part2num": np.array({"body": 0}, dtype=object),  # real files pickle these dicts
        "joint2num": np.array({"pelvis": 0}, dtype=object),
    }


class _FakeCh:
    """Pickles like chumpy's ``Ch`` (class chumpy.ch.Ch, state dict with the value in 'x')."""

    def __init__(self, x):
        self.x = x

    def __getstate__(self):
        return {"x": self.x, "_dirty_vars": set(), "_itr": None, "_depends_on_deps": {},
                "_make_dense": False, "_make_sparse": False}


class _FakeCSC:
    """Pickles like an old scipy ``csc_matrix`` (class scipy.sparse.csc.csc_matrix)."""

    def __init__(self, dense: np.ndarray):
        rows, cols = np.nonzero(dense.T)  # column-major order
        self.state = {"_shape": dense.shape, "data": dense.T[rows, cols], "indices": cols,
                      "indptr": np.r_[0, np.cumsum(np.bincount(rows, minlength=dense.shape[1]))],
                      "maxprint": 50, "format": "csc"}

    def __getstate__(self):
        return self.state


@contextlib.contextmanager
def _registered(module: str, name: str, cls: type):
    """Expose ``cls`` as ``module.name`` while pickling (restoring sys.modules after)."""
    parts = module.split(".")
    names = [".".join(parts[: i + 1]) for i in range(len(parts))]
    saved = {n: sys.modules.get(n) for n in names}
    for n in names:
        sys.modules[n] = types.ModuleType(n)
    setattr(sys.modules[module], name, cls)
    cls.__module__, cls.__qualname__, cls.__name__ = module, name, name
    try:
        yield
    finally:
        for n, old in saved.items():
            if old is None:
                del sys.modules[n]
            else:
                sys.modules[n] = old


def write_pickle(path: Path, arrays: dict, chumpy: bool = True, protocol: int = 2) -> Path:
    """Write ``arrays`` as an original-style .pkl: with ``chumpy``, shapedirs as a chumpy
    ``Ch`` and J_regressor as a scipy CSC matrix, as the SMPL/FLAME/SMAL downloads do."""
    data = dict(arrays)
    if chumpy:
        data["shapedirs"] = _FakeCh(arrays["shapedirs"])
        data["J_regressor"] = _FakeCSC(arrays["J_regressor"])
    with _registered("chumpy.ch", "Ch", _FakeCh), \
            _registered("scipy.sparse.csc", "csc_matrix", _FakeCSC):
        payload = pickle.dumps(data, protocol=protocol)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(payload)
    return path


def write_npz(path: Path, arrays: dict) -> Path:
    """Write ``arrays`` as an .npz the way SMPL-X ships (object arrays included)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    return path


def write_model_file(path: Path, kind: str, fmt: str, seed: int = 0,
                     real_size: bool = False) -> Path:
    """Write one synthetic file of ``kind`` in ``fmt`` (npz, pkl, chumpy-pkl,
    chumpy-pkl-protocol1)."""
    arrays = skinned_arrays(kind, seed, real_size)
    if kind == "smplx":
        arrays |= smplx_extras(arrays, seed)
    if fmt == "npz":
        return write_npz(path, arrays)
    if kind == "smplx":  # plain-array pickles hold no object arrays
        arrays = {k: v for k, v in arrays.items() if k not in ("part2num", "joint2num")}
    protocol = 1 if fmt.endswith("protocol1") else 2
    return write_pickle(path, arrays, chumpy=fmt.startswith("chumpy"), protocol=protocol)


def write_model_tree(root: Path, real_size: bool = False) -> Path:
    """Write every licensed model's synthetic file under ``root`` in smplx's layout (tiny,
    or with about the real vertex counts: then SMPL-X files are over 100 MB)."""
    root = Path(root)
    for relative, (kind, fmt) in TREE.items():
        write_model_file(root / relative, kind, fmt, real_size=real_size)
    return root


def write_linear_npz(path: Path, template, basis, faces, **extras) -> Path:
    """Write a ``linear:`` model .npz: template (V, 3), basis (K, V, 3) or (3V, K), faces
    (F, 3), plus any optional keys (names, ranges, defaults, uvs, uv_faces, family, up,
    distribution)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, template=np.asarray(template), basis=np.asarray(basis),
             faces=np.asarray(faces), **{k: np.asarray(v) for k, v in extras.items()})
    return path


def cylinder(height: float = 1.7, radius: float = 0.15, segments: int = 64,
             rings: int = 17) -> tuple[np.ndarray, np.ndarray]:
    """Closed cylinder standing on y=0 along +Y: (V, 3) float32 vertices, (F, 3) int64
    faces (outward, counter-clockwise); side rings at equal heights, centres on the caps."""
    angle = np.linspace(0, 2 * np.pi, segments, endpoint=False)
    heights = np.linspace(0, height, rings)
    ring = np.stack([radius * np.sin(angle), np.zeros(segments), radius * np.cos(angle)], -1)
    side = np.concatenate([ring + [0, h, 0] for h in heights])
    vertices = np.concatenate([side, [[0, 0, 0], [0, height, 0]]]).astype(np.float32)
    bottom, top = len(side), len(side) + 1
    faces = []
    for r in range(rings - 1):
        for s in range(segments):
            a, b = r * segments + s, r * segments + (s + 1) % segments
            faces += [[a, b, a + segments], [b, b + segments, a + segments]]
    last = (rings - 1) * segments
    for s in range(segments):
        s2 = (s + 1) % segments
        faces += [[bottom, s2, s], [top, last + s, last + s2]]
    return vertices, np.array(faces, dtype=np.int64)


def write_cylinder_npz(path: Path, height: float = 1.7, radius: float = 0.15,
                       segments: int = 64, rings: int = 17, **extras) -> Path:
    """A ``linear:`` cylinder with two coefficients: ``height`` adds 0.1 m of height per unit
    (top moves, base stays at y=0) and ``girth`` adds 0.01 m of radius per unit."""
    vertices, faces = cylinder(height, radius, segments, rings)
    tall = vertices * [0, 0.1 / height, 0]
    wide = vertices * [0.01 / radius, 0, 0.01 / radius]
    extras = {"names": np.array(["height", "girth"]), "family": "body", **extras}
    return write_linear_npz(path, vertices, np.stack([tall, wide]), faces, **extras)
