"""Write meshes: OBJ (with UVs), PLY and GLB (with its material).

Vertex order and count are kept exactly as the model produces them, so a file can be
matched vertex-for-vertex with the model (trimesh is called with ``process=False``), except in
a GLB with a texture: glTF needs one vertex per (vertex, texture coordinate) pair, so vertices
on texture seams are repeated there.
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


def export_mesh(path: Path | str, vertices, faces, uv_map=None, material=None) -> Path:
    """Write (V, 3) ``vertices`` and (F, 3) ``faces`` to ``path`` (.obj, .ply or .glb).

    A .glb carries ``material`` (a :class:`viewer.Material`, e.g. from
    :func:`semantify.appearance.material_for`) as a glTF PBR material: its texture through
    ``uv_map`` when it has one, else its colour.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    vertices = np.asarray(vertices, dtype=np.float32)
    faces = np.asarray(faces, dtype=np.int64)
    if suffix == ".obj":
        text = obj_text(vertices, faces, uv_map)
        write_atomic(path, lambda tmp: Path(tmp).write_text(text))
    elif suffix in (".ply", ".glb"):
        import trimesh

        visual = None
        if suffix == ".glb" and material is not None:
            vertices, faces, visual = _gltf_material(vertices, faces, uv_map, material)
        mesh = trimesh.Trimesh(vertices=vertices, faces=faces, process=False, visual=visual)
        data = mesh.export(file_type=suffix[1:])
        data = data.encode() if isinstance(data, str) else data
        write_atomic(path, lambda tmp: Path(tmp).write_bytes(data))
    else:
        raise SemantifyError(f"cannot write a mesh as {path.name!r}; use one of "
                             f"{', '.join(MESH_FORMATS)}.")
    return path


def _gltf_material(vertices, faces, uv_map, material):
    """(vertices, faces, trimesh visual) carrying ``material`` as a glTF PBR material."""
    import trimesh
    from PIL import Image

    from viewer import UVLayout
    from viewer.lighting import srgb_to_linear

    options = {"name": material.name, "metallicFactor": 0.0,
               "roughnessFactor": float(material.roughness)}
    if material.texture is not None and uv_map is not None:
        layout = UVLayout.from_corners(faces, uv_map.coords, uv_map.faces)
        texture = Image.fromarray(np.ascontiguousarray(np.asarray(material.texture)[..., :3]))
        pbr = trimesh.visual.material.PBRMaterial(baseColorTexture=texture, **options)
        visual = trimesh.visual.TextureVisuals(uv=layout.uv, material=pbr)
        return vertices[layout.source], layout.faces.astype(np.int64), visual
    pbr = trimesh.visual.material.PBRMaterial(
        baseColorFactor=[*srgb_to_linear(material.albedo), 1.0], **options)
    return vertices, faces, trimesh.visual.TextureVisuals(material=pbr)
