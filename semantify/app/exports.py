"""Downloads of the shape on show (OBJ with UVs, PLY, GLB with its material, params JSON) and
"Load params"."""

from __future__ import annotations

from pathlib import Path

from semantify.app import scratch
from semantify.app.runtime import Runtime
from semantify.app.session import Session
from semantify.export import export_mesh


def export_files(session: Session, runtime: Runtime, params: dict,
                 vertices=None) -> list[Path]:
    """shape.obj, shape.ply, shape.glb and params.json in the session's scratch folder, of
    ``vertices`` (default: the rest-pose shape); the GLB carries the session's skin or clay."""
    from semantify.appearance import material_for
    from semantify.params import Params

    model = runtime.slider_set.model
    folder = scratch.session_folder(session.token)
    faces = model.faces.cpu().numpy()
    vertices = session.vertices if vertices is None else vertices
    material = material_for(model, session.appearance)
    paths = [export_mesh(folder / "shape.obj", vertices, faces, model.uv_map),
             export_mesh(folder / "shape.ply", vertices, faces),
             export_mesh(folder / "shape.glb", vertices, faces, model.uv_map, material)]
    return paths + [Params.from_dict(params).write(folder / "params.json")]
