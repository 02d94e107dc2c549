"""Write meshes (OBJ with UVs, PLY, GLB) and the parameters that reproduce them.

Vertex order and count are kept exactly as the model produces them, so a file can be
matched vertex-for-vertex with the model (trimesh is called with ``process=False``).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import torch

from semantify.dataset import write_atomic, write_json_atomic
from semantify.errors import SemantifyError

MESH_FORMATS = (".obj", ".ply", ".glb")


def obj_text(vertices: np.ndarray, faces: np.ndarray, uv_map=None) -> str:
    """Wavefront OBJ of (V, 3) vertices and (F, 3) faces; with ``uv_map``, ``vt`` and v/vt faces."""
    out = io.StringIO()
    out.write("# written by semantify\n")
    np.savetxt(out, np.asarray(vertices, dtype=np.float64), fmt="v %.6f %.6f %.6f")
    faces = np.asarray(faces, dtype=np.int64) + 1
    if uv_map is None:
        np.savetxt(out, faces, fmt="f %d %d %d")
    else:
        np.savetxt(out, np.asarray(uv_map.coords, dtype=np.float64), fmt="vt %.6f %.6f")
        uv_faces = np.asarray(uv_map.faces, dtype=np.int64) + 1
        if uv_faces.shape != faces.shape:
            raise SemantifyError(f"the model's uv_map has {uv_faces.shape[0]} faces for "
                                 f"{faces.shape[0]} mesh faces; export as .ply or .glb instead.")
        pairs = np.stack([faces, uv_faces], axis=-1).reshape(-1, 6)
        np.savetxt(out, pairs, fmt="f %d/%d %d/%d %d/%d")
    return out.getvalue()


def export_mesh(path: Path | str, vertices, faces, uv_map=None) -> Path:
    """Write (V, 3) ``vertices`` and (F, 3) ``faces`` to ``path`` (.obj, .ply or .glb)."""
    path = Path(path)
    suffix = path.suffix.lower()
    vertices = np.asarray(vertices, dtype=np.float32)
    faces = np.asarray(faces, dtype=np.int64)
    if suffix == ".obj":
        text = obj_text(vertices, faces, uv_map)
        write_atomic(path, lambda tmp: Path(tmp).write_text(text))
    elif suffix in (".ply", ".glb"):
        import trimesh

        mesh = trimesh.Trimesh(vertices=vertices, faces=faces, process=False)
        data = mesh.export(file_type=suffix[1:])
        data = data.encode() if isinstance(data, str) else data
        write_atomic(path, lambda tmp: Path(tmp).write_bytes(data))
    else:
        raise SemantifyError(f"cannot write a mesh as {path.name!r}; use one of "
                             f"{', '.join(MESH_FORMATS)}.")
    return path


def write_params(path: Path | str, params: dict) -> Path:
    """Write the parameters of a result (slider values, coefficients, model, slider set) as JSON."""
    write_json_atomic(Path(path), params)
    return Path(path)


def read_json(path: Path | str) -> dict:
    """A JSON object from ``path``, or a one-line error."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SemantifyError(f"cannot read params {path} ({error}); pass a JSON file written by "
                             "`semantify shape --params`.") from None
    if not isinstance(data, dict):
        raise SemantifyError(f"{path} holds no JSON object; pass a params file.")
    return data


def coefficients_from(values, model, source: str) -> torch.Tensor:
    """(C,) coefficients: ``model``'s defaults overridden by ``values`` {name: number}."""
    if not isinstance(values, dict):
        raise SemantifyError(f'{source} must hold {{"coefficients": {{name: value, ...}}}}.')
    names = model.coefficient_names
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise SemantifyError(f"{model.id} has no coefficient {', '.join(unknown[:5])} (in "
                             f"{source}); valid names: {', '.join(names[:12])}"
                             f"{', ...' if len(names) > 12 else ''}.")
    bad = [k for k, v in values.items() if isinstance(v, bool) or not isinstance(v, (int, float))]
    if bad:
        raise SemantifyError(f"coefficient values must be numbers; check {', '.join(bad)} in "
                             f"{source}.")
    coefficients = model.default_coefficients()
    for name, value in values.items():
        coefficients[names.index(name)] = float(value)
    return coefficients


def read_params(path: Path | str) -> dict:
    """Read a params JSON written by :func:`write_params`, or raise a one-line error."""
    params = read_json(path)
    if not isinstance(params.get("sliders"), dict):
        raise SemantifyError(f"{path} has no 'sliders' values; pass a file written by "
                             "`semantify shape --params`.")
    return params
