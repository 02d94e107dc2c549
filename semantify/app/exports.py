"""Downloads of the current shape (OBJ with UVs, PLY, GLB, params JSON) and "Load params"."""

from __future__ import annotations

import tempfile
from pathlib import Path

from semantify.app import resources, view
from semantify.app.catalog import RAW, SETS
from semantify.app.session import Session
from semantify.errors import SemantifyError


def export_files(session: Session) -> list[Path]:
    """Write shape.obj, shape.ply, shape.glb and params.json to a new folder; their paths."""
    from semantify.export import export_mesh, write_params

    model = resources.model(view.panel(session.key).entry.model_id)
    folder = Path(tempfile.mkdtemp(prefix="semantify-export-"))
    faces = model.faces.cpu().numpy()
    paths = [export_mesh(folder / f"shape{suffix}", session.vertices, faces,
                         model.uv_map if suffix == ".obj" else None)
             for suffix in (".obj", ".ply", ".glb")]
    return paths + [write_params(folder / "params.json", view.coefficient_record(session))]


def load_params(path) -> tuple[str, list[float], list[str]]:
    """The entry key and slider values a params JSON restores, and notices about it."""
    from semantify.export import read_params

    params = read_params(path)
    slider_set = params.get("slider_set")
    notices = []
    if slider_set and Path(slider_set, "sliders.json").is_file():
        key = f"{SETS}{slider_set}"
    elif slider_set:
        raise SemantifyError(f"the slider set {slider_set} of these params is not here; "
                             "copy that folder back or start `semantify app --sliders DIR`.")
    elif isinstance(params.get("model"), str):
        key = f"{RAW}{params['model']}"
    else:
        raise SemantifyError("these params name no model; pass a params.json exported here.")
    panel = view.panel(key)
    given = params["sliders"]
    unknown = [name for name in given if name not in {c.name for c in panel.controls}]
    if unknown:
        notices.append(f"ignored unknown sliders: {', '.join(unknown[:5])}.")
    try:
        values = [float(given.get(c.name, c.default)) for c in panel.controls]
    except (TypeError, ValueError):
        raise SemantifyError("these params hold a non-numeric slider value; pass a "
                             "params.json exported here.") from None
    return key, values, notices
