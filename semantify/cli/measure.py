"""``semantify measure``: body measurements of a mesh file or of a coefficients JSON.

A mesh (.obj, .ply, .glb) must be in Semantify's frame (metres, +Y up, facing +Z), with the
model's vertex order, as ``semantify`` exports it. A params JSON holds ``"coefficients"``
{name: value} (names left out keep their default) and optionally ``"model"``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from semantify.errors import SemantifyError

MESH_SUFFIXES = (".obj", ".ply", ".glb")
DEFAULT_MODEL = "anny-body"


def add(subparsers) -> None:
    parser = subparsers.add_parser(
        "measure", help="body measurements (height, girths, inseam, arm, shoulders, mass)",
        description="Print a body's measurements, one per line with its unit. A mesh must be "
                    "in Semantify's frame (metres, +Y up, facing +Z) with the model's vertex "
                    "order, as `semantify` exports it.")
    parser.add_argument("source", metavar="MESH_OR_PARAMS",
                        help="a mesh (.obj, .ply, .glb) or a JSON with 'coefficients'")
    parser.add_argument("--model", default=None,
                        help=f"model id a mesh comes from (default {DEFAULT_MODEL}; params "
                             "name their own)")
    parser.add_argument("--json", action="store_true",
                        help="print {name: value} in cm and kg as one line of JSON (null "
                             "where a girth cannot be taken)")
    parser.set_defaults(run=run)


def run(args) -> int:
    import torch

    from semantify.measurements.anthropometer import Anthropometer
    from semantify.models import ModelRef
    from semantify.sets.params import Params

    source = Path(args.source)
    if source.suffix.lower() == ".json":
        params = Params.read(source)
        model = params.model.load()
        if args.model and args.model != model.id:
            raise SemantifyError(f"{source} is params of {model.id}, not {args.model}; drop "
                                 "--model (params name their model).")
        with torch.no_grad():  # coefficients_for refuses values beyond a range, bad poses
            vertices = model(params.coefficients_for(model, str(source))[None])[0]
    else:
        vertices = _read_mesh(source)
        model = ModelRef(args.model or DEFAULT_MODEL).load()
    meter = Anthropometer.for_model(model)
    if args.json:
        measured = meter.measure(torch.as_tensor(vertices)[None])
        values = {name: float(value[0]) for name, value in measured.items()}
        print(json.dumps({name: round(value, 2) if math.isfinite(value) else None
                          for name, value in values.items()}))
        return 0
    for label, value, unit in meter.measure_table(vertices):
        print(f"{label:<16} {value:8.1f} {unit}")
    return 0


def _read_mesh(path: Path):
    """(V, 3) float32 vertices of a mesh file, in file order, or a one-line error."""
    import numpy as np
    import trimesh

    if path.suffix.lower() not in MESH_SUFFIXES:
        raise SemantifyError(f"cannot measure {path.name!r}; pass a mesh "
                             f"({', '.join(MESH_SUFFIXES)}) or a params .json.")
    if not path.is_file():
        raise SemantifyError(f"no mesh file {path}; check the path.")
    try:  # maintain_order: an OBJ with UVs would otherwise get its vertices split and reordered
        mesh = trimesh.load(path, process=False, force="mesh", maintain_order=True)
        vertices = np.asarray(mesh.vertices, dtype=np.float32)
    except Exception as error:  # trimesh raises many kinds on a broken file
        raise SemantifyError(f"cannot read mesh {path} ({type(error).__name__}: {error}); "
                             "pass a mesh exported by semantify.") from None
    if vertices.ndim != 2 or len(vertices) == 0:
        raise SemantifyError(f"{path} holds no vertices; pass a mesh exported by semantify.")
    return vertices


