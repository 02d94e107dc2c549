"""Write meshes: OBJ (with UVs), PLY and GLB (with its material), each with smooth normals.

Vertex order and count are kept exactly as the model produces them, so a file can be
matched vertex-for-vertex with the model (trimesh is called with ``process=False``), except in
a GLB with a texture: glTF needs one vertex per (vertex, texture coordinate) pair, so vertices
on texture seams are repeated there. Normals are those the app's viewer shades with
(:class:`viewer.mesh.VertexNormals`: area-weighted, one per model vertex), so a seam-split
vertex keeps its neighbour's normal and no file looks faceted.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from semantify.errors import SemantifyError
from semantify.files import write_atomic

MESH_FORMATS = (".obj", ".ply", ".glb")


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """(V, 3) float32 unit normals of (V, 3) ``vertices`` and (F, 3) ``faces``, as the viewer
    shades them (a vertex no face uses gets +Y, so every normal is a unit vector)."""
    from viewer.mesh import VertexNormals

    normals = VertexNormals(faces)(np.asarray(vertices, dtype=np.float32))
    normals[np.einsum("ij,ij->i", normals, normals) < 0.5] = (0.0, 1.0, 0.0)
    return normals


def obj_text(vertices: np.ndarray, faces: np.ndarray, uv_map=None) -> str:
    """Wavefront OBJ of (V, 3) vertices and (F, 3) faces, with one ``vn`` per vertex; with
    ``uv_map``, ``vt`` and v/vt/vn faces."""
    out = io.StringIO()
    out.write("# written by semantify\n")
    np.savetxt(out, np.asarray(vertices, dtype=np.float64), fmt="v %.6f %.6f %.6f")
    np.savetxt(out, vertex_normals(vertices, faces).astype(np.float64), fmt="vn %.6f %.6f %.6f")
    faces = np.asarray(faces, dtype=np.int64) + 1
    if uv_map is None:
        np.savetxt(out, np.repeat(faces, 2, axis=1), fmt="f %d//%d %d//%d %d//%d")
    else:
        np.savetxt(out, np.asarray(uv_map.coords, dtype=np.float64), fmt="vt %.6f %.6f")
        uv_faces = np.asarray(uv_map.faces, dtype=np.int64) + 1
        if uv_faces.shape != faces.shape:
            raise SemantifyError(f"the model's uv_map has {uv_faces.shape[0]} faces for "
                                 f"{faces.shape[0]} mesh faces; export as .ply or .glb instead.")
        triples = np.stack([faces, uv_faces, faces], axis=-1).reshape(-1, 9)
        np.savetxt(out, triples, fmt="f %d/%d/%d %d/%d/%d %d/%d/%d")
    return out.getvalue()


def mesh_format(path: Path, glb_only: bool = False) -> str:
    """The format (``.obj``, ``.ply`` or ``.glb``) ``path`` names, or a one-line error; a rig
    or shape keys (``glb_only``) need a .glb."""
    suffix = path.suffix.lower()
    if suffix not in MESH_FORMATS:
        raise SemantifyError(f"cannot write a mesh as {path.name!r}; use one of "
                             f"{', '.join(MESH_FORMATS)}.")
    if glb_only and suffix != ".glb":
        raise SemantifyError(f"a rig and shape keys need a .glb file, not {path.name!r}; "
                             "write a .glb, or export without them.")
    return suffix


def export_mesh(path: Path | str, vertices, faces, uv_map=None, material=None, rig=None,
                shape_keys=None) -> Path:
    """Write (V, 3) ``vertices`` and (F, 3) ``faces`` to ``path`` (.obj, .ply or .glb).

    A .glb carries ``material`` (a :class:`viewer.Material`, e.g. from
    :func:`semantify.pictures.appearance.material_for`) as a glTF PBR material: its texture through
    ``uv_map`` when it has one, else its colour; and, when given, a
    :class:`~semantify.export.rig.Rig` and :class:`~semantify.export.shape_keys.ShapeKeys`.
    """
    path = Path(path)
    suffix = mesh_format(path, rig is not None or shape_keys is not None)
    vertices = np.asarray(vertices, dtype=np.float32)
    faces = np.asarray(faces, dtype=np.int64)
    if suffix == ".obj":
        data = obj_text(vertices, faces, uv_map).encode()
    elif suffix == ".ply":
        import trimesh

        mesh = trimesh.Trimesh(vertices=vertices, faces=faces, process=False,
                               vertex_normals=vertex_normals(vertices, faces))
        data = trimesh.exchange.ply.export_ply(mesh, vertex_normal=True)
    else:
        from semantify.export.glb import glb_bytes

        data = glb_bytes(vertices, faces, vertex_normals(vertices, faces), uv_map, material,
                         rig, shape_keys)
    write_atomic(path, lambda tmp: Path(tmp).write_bytes(data))
    return path
