"""Write meshes: OBJ (with UVs), PLY and GLB.

Vertex order and count are kept exactly as the model produces them, so a file can be
matched vertex-for-vertex with the model (trimesh is called with ``process=False``).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from semantify.errors import SemantifyError
from semantify.files import write_atomic

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
