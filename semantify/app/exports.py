"""Downloads of the shape on show (OBJ with UVs, PLY, GLB, params JSON) and "Load params"."""

from __future__ import annotations

from pathlib import Path

from semantify.app import scratch
from semantify.app.runtime import Runtime
from semantify.app.session import Session
from semantify.export import export_mesh


def export_files(session: Session, runtime: Runtime, params: dict) -> list[Path]:
    """shape.obj, shape.ply, shape.glb and params.json in the session's scratch folder."""
    from semantify.params import Params

    model = runtime.slider_set.model
    folder = scratch.session_folder(session.token)
    faces = model.faces.cpu().numpy()
    paths = [export_mesh(folder / f"shape{suffix}", session.vertices, faces,
                         model.uv_map if suffix == ".obj" else None)
             for suffix in (".obj", ".ply", ".glb")]
    return paths + [Params.from_dict(params).write(folder / "params.json")]
