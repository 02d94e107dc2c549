"""``semantify measure``: body measurements of a mesh file or of a coefficients JSON.

A mesh (.obj, .ply, .glb) must be in Semantify's frame (metres, +Y up, facing +Z), with the
model's vertex order, as ``semantify`` exports it. A params JSON holds ``"coefficients"``
{name: value} (names left out keep their default) and optionally ``"model"``.
"""

from __future__ import annotations

import json
from pathlib import Path

MESH_SUFFIXES = (".obj", ".ply", ".glb")


def add(subparsers) -> None:
    parser = subparsers.add_parser(
        "measure", help="body measurements (height, girths, inseam, arm, shoulders, mass)",
        description="Print a body's measurements, one per line with its unit. A mesh must be "
                    "in Semantify's frame (metres, +Y up, facing +Z) with the model's vertex "
                    "order, as `semantify` exports it.")
    parser.add_argument("source", metavar="MESH_OR_PARAMS",
                        help="a mesh (.obj, .ply, .glb) or a JSON with 'coefficients'")
    parser.add_argument("--model", default=None,
                        help="model id the mesh comes from (default: the JSON's 'model', "
                             "else anny-body)")
    parser.set_defaults(run=run)


def run(args) -> int:
    from semantify.measure import Anthropometer
    from semantify.models import load_model

    source = Path(args.source)
    params = _read_params(source) if source.suffix.lower() == ".json" else None
    model_id = args.model or (params or {}).get("model") or "anny-body"
    model = load_model(model_id)
    meter = Anthropometer.for_model(model)
    if params is None:
        vertices = _read_mesh(source)
    else:
        vertices = model(_coefficients(model, params["coefficients"], source))[0]
    for label, value, unit in meter.measure_table(vertices):
        print(f"{label:<16} {value:8.1f} {unit}")
    return 0


def _read_mesh(path: Path):
    """(V, 3) float32 vertices of a mesh file, in file order, or a one-line error."""
    import numpy as np
    import trimesh

    from semantify.errors import SemantifyError

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


def _read_params(path: Path) -> dict:
    """The params JSON as a dict with a 'coefficients' dict, or a one-line error."""
    from semantify.errors import SemantifyError

    try:
        params = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SemantifyError(f"cannot read params {path} ({error}); pass a JSON with "
                             "'coefficients' {name: value}.") from None
    if not isinstance(params, dict) or not isinstance(params.get("coefficients"), dict):
        raise SemantifyError(f"{path} has no 'coefficients' {{name: value}}; pass a JSON "
                             "written by `semantify shape --params`.")
    return params


def _coefficients(model, values: dict, path: Path):
    """(1, C) coefficients: the model's defaults overridden by ``values`` {name: number}."""
    from semantify.errors import SemantifyError

    names = model.coefficient_names
    unknown = [name for name in values if name not in names]
    if unknown:
        raise SemantifyError(f"{path} names coefficients {', '.join(unknown[:5])} that "
                             f"{model.id} does not have; valid: {', '.join(names[:10])}"
                             f"{', ...' if len(names) > 10 else ''}.")
    coefficients = model.default_coefficients()
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SemantifyError(f"{path}: coefficient {name} is {value!r}; give a number.")
        coefficients[names.index(name)] = float(value)
    return coefficients[None]
