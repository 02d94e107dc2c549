"""``linear:PATH.npz``: any linear blendshape model, vertices = template + coefficients @ basis.

The .npz holds (read without unpickling):

- ``template`` (V, 3) float: the mean mesh, in metres;
- ``basis`` (K, V, 3) float, or (3V, K) float with rows ordered x0, y0, z0, x1, ... (the
  flattened (V, 3) template, one column per coefficient, as PCA tools often save it);
- ``faces`` (F, 3) int triangles;
- optional ``names`` (K,) str (default ``c0..cK-1``), ``ranges`` (K, 2) float [low, high]
  (default [-3, 3]), ``defaults`` (K,) float (default 0 clipped into the range);
- optional ``uvs`` (T, 2) float with ``uv_faces`` (F, 3) int;
- optional ``family`` str (body, face, expression, animal or generic; default generic);
- optional ``up`` str: ``y`` (default; +Y up, facing +Z) or ``z`` (+Z up, facing -Y, as in
  Blender; rotated -90 degrees about X);
- optional ``distribution`` str, one of the sampling kinds (default ``normal`` with unit
  spread when no ranges are given, else ``uniform``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from semantify.errors import SemantifyError
from semantify.models import model_files
from semantify.models.base import Coefficient, MorphableModel, UVMap
from semantify.models.sampling import KINDS, Distribution

FAMILIES = ("body", "face", "expression", "animal", "generic")
FRAMING = {"body": "body", "face": "head", "expression": "head", "animal": "animal",
           "generic": "full"}
DEFAULT_RANGE = (-3.0, 3.0)
# +Z up, facing -Y -> +Y up, facing +Z.
Z_UP_TO_CANONICAL = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])
OPTIONAL = ("names", "ranges", "defaults", "uvs", "uv_faces", "family", "up", "distribution")


def _bad(path, key, shape, expected) -> SemantifyError:
    return SemantifyError(f"linear model {path}: {key} has shape {tuple(shape)}, expected "
                          f"{expected}; fix the file.")


def _text(arrays: dict, key: str, default: str, choices, path) -> str:
    if key not in arrays:
        return default
    value = str(np.asarray(arrays[key]).reshape(()).item()) if np.asarray(arrays[key]).size == 1 \
        else None
    if value not in choices:
        raise SemantifyError(f"linear model {path}: {key} must be one of {', '.join(choices)}, "
                             f"got {arrays[key]!r}.")
    return value


def _basis(basis: np.ndarray, v: int, path) -> np.ndarray:
    """(K, V, 3) or (3V, K) -> (K, V, 3)."""
    if basis.ndim == 3 and basis.shape[1:] == (v, 3):
        return basis
    if basis.ndim == 2 and basis.shape[0] == 3 * v:
        return basis.T.reshape(-1, v, 3)
    raise _bad(path, "basis", basis.shape, f"(K, {v}, 3) or ({3 * v}, K)")


def _coefficients(arrays: dict, k: int, path) -> list[Coefficient]:
    names = [f"c{i}" for i in range(k)]
    if "names" in arrays:
        names = [str(n) for n in np.asarray(arrays["names"]).reshape(-1)]
        if len(names) != k or len(set(names)) != k:
            raise SemantifyError(f"linear model {path}: names must be {k} distinct strings, got "
                                 f"{len(names)} ({len(set(names))} distinct).")
    ranges = np.tile(DEFAULT_RANGE, (k, 1))
    if "ranges" in arrays:
        ranges = np.asarray(arrays["ranges"], dtype=np.float64)
        if ranges.shape != (k, 2) or not np.isfinite(ranges).all() \
                or (ranges[:, 0] >= ranges[:, 1]).any():
            raise _bad(path, "ranges", ranges.shape, f"({k}, 2) finite with low < high")
    defaults = np.clip(0.0, ranges[:, 0], ranges[:, 1])
    if "defaults" in arrays:
        defaults = np.asarray(arrays["defaults"], dtype=np.float64)
        if defaults.shape != (k,) or (defaults < ranges[:, 0]).any() \
                or (defaults > ranges[:, 1]).any():
            raise _bad(path, "defaults", defaults.shape, f"({k},) inside the ranges")
    return [Coefficient(n, float(lo), float(hi), float(d))
            for n, (lo, hi), d in zip(names, ranges, defaults)]


class LinearModel(MorphableModel):
    """vertices (B, V, 3) = template (V, 3) + coefficients (B, K) @ basis (K, V, 3)."""

    def __init__(self, model_id, name, family, template, basis, faces, coefficients,
                 distribution, uv_map=None):
        super().__init__()
        self.id, self.name, self.family = model_id, name, family
        self.framing = FRAMING[family]
        self.coefficients = tuple(coefficients)
        self.distribution = distribution
        self.uv_map = uv_map
        self.register_buffer("template", torch.tensor(template, dtype=torch.float32))
        self.register_buffer("basis", torch.tensor(basis.reshape(len(basis), -1),
                                                   dtype=torch.float32))
        self.register_buffer("faces", torch.tensor(faces, dtype=torch.int64))

    def _vertices(self, coefficients: torch.Tensor) -> torch.Tensor:
        offsets = coefficients @ self.basis
        return self.template + offsets.view(coefficients.shape[0], -1, 3)


def linear_model(path: str | Path) -> LinearModel:
    """Build a :class:`LinearModel` from an .npz (see the module docstring for its keys)."""
    model_id = f"linear:{path}"
    path = Path(path).expanduser()
    if path.suffix != ".npz":
        raise SemantifyError(f"linear model {path} must be an .npz file (template, basis, faces).")
    if not path.is_file():
        raise SemantifyError(f"linear model file {path} not found; check the path after linear:.")
    arrays = model_files.read_arrays(path, ("template", "basis", "faces"), OPTIONAL)
    try:
        template = np.asarray(arrays["template"], dtype=np.float64)
        basis = np.asarray(arrays["basis"], dtype=np.float64)
        faces = np.asarray(arrays["faces"])
    except (TypeError, ValueError) as error:
        raise SemantifyError(f"linear model {path}: non-numeric array ({error}); fix the file.")
    if template.ndim != 2 or template.shape[1] != 3 or len(template) < 3:
        raise _bad(path, "template", template.shape, "(V, 3) with V >= 3")
    v = len(template)
    basis = _basis(basis, v, path)
    if not (np.isfinite(template).all() and np.isfinite(basis).all()):
        raise SemantifyError(
            f"linear model {path}: template or basis has NaN or inf; fix the file.")
    if not np.issubdtype(faces.dtype, np.integer) or faces.ndim != 2 or faces.shape[1] != 3 \
            or len(faces) == 0 or faces.min() < 0 or faces.max() >= v:
        raise _bad(path, "faces", faces.shape, f"(F, 3) integers in [0, {v})")
    family = _text(arrays, "family", "generic", FAMILIES, path)
    if _text(arrays, "up", "y", ("y", "z"), path) == "z":
        template = template @ Z_UP_TO_CANONICAL.T
        basis = basis @ Z_UP_TO_CANONICAL.T
    coefficients = _coefficients(arrays, len(basis), path)
    kind = _text(arrays, "distribution", "uniform" if "ranges" in arrays else "normal", KINDS,
                 path)
    uv_map = None
    if "uvs" in arrays and "uv_faces" in arrays:
        uvs, uv_faces = np.asarray(arrays["uvs"]), np.asarray(arrays["uv_faces"])
        if uvs.ndim != 2 or uvs.shape[1] != 2:
            raise _bad(path, "uvs", uvs.shape, "(T, 2)")
        if uv_faces.shape != faces.shape or uv_faces.min() < 0 or uv_faces.max() >= len(uvs):
            raise _bad(path, "uv_faces", uv_faces.shape, f"{faces.shape} indices into uvs")
        uv_map = UVMap(uvs.astype(np.float32), uv_faces.astype(np.int64))
    return LinearModel(model_id, f"Linear model {path.name}", family, template, basis,
                       faces.astype(np.int64), coefficients, Distribution(kind), uv_map)
