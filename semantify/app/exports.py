"""Downloads of the shape on show (OBJ with UVs, PLY, GLB with its material, and for models
with a skeleton a rigged GLB whose sliders are shape keys; params JSON) and "Load params"."""

from __future__ import annotations

from pathlib import Path

from semantify.app import scratch
from semantify.app.runtime import Runtime
from semantify.app.session import Session


def export_files(session: Session, runtime: Runtime, params,
                 pose: str = "rest") -> list[Path]:
    """shape.obj, shape.ply, shape.glb (in ``pose``, with the session's skin or clay),
    shape-rigged.glb (for a model with a skeleton: at rest, joints in ``pose``, and the
    sliders as shape keys unless the set refines measurements, whose keys take a refinement
    each, seconds, beyond a click's budget: `semantify export --shape-keys` writes them) and
    params.json (``params``, a :class:`semantify.sets.params.Params`) in the session's scratch
    folder; a body's feet at y = 0."""
    import torch

    from semantify.export import export_shape
    from semantify.sets.sliders import Shape

    folder = scratch.session_folder(session.token)
    shape = Shape(runtime.slider_set, session.values,
                  torch.tensor(session.coefficients, dtype=torch.float32), session.vertices)
    paths = [export_shape(shape, folder / f"shape{suffix}", pose, session.appearance).path
             for suffix in (".obj", ".ply", ".glb")]
    if runtime.slider_set.model.skeleton is not None:
        paths.append(export_shape(shape, folder / "shape-rigged.glb", pose, session.appearance,
                                  rig=True, shape_keys=not runtime.slider_set.refines).path)
    return paths + [params.write(folder / "params.json")]
