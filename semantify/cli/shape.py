"""``semantify shape``: a mesh (OBJ/PLY/GLB) from slider values, and the params that rebuild it."""

from __future__ import annotations

import math
from pathlib import Path

from semantify.errors import SemantifyError


def add(subparsers) -> None:
    p = subparsers.add_parser(
        "shape", help="build a mesh from slider values",
        description="Set sliders by name (unset ones take their defaults) and write the mesh. "
                    "Values outside a slider's range are clamped to it, with a warning.")
    p.add_argument("sliders", help="slider set folder written by `semantify train`")
    p.add_argument("--set", action="append", default=None, metavar="NAME=VALUE",
                   help="a slider value (repeatable)")
    p.add_argument("--params-in", default=None,
                   help="params JSON of an earlier result to reproduce (--set overrides)")
    p.add_argument("--out", required=True, help="mesh file: .obj (with UVs), .ply or .glb")
    p.add_argument("--params", default=None, help="also write the params JSON here")
    p.set_defaults(run=run)


def parse_set(items: list[str] | None) -> dict[str, float]:
    """['fat=0.5', 'tall=2'] -> {'fat': 0.5, 'tall': 2.0}, or a one-line error."""
    values: dict[str, float] = {}
    for item in items or []:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise SemantifyError(f"--set {item!r} is not NAME=VALUE; write e.g. --set fat=0.5.")
        try:
            value = float(text)
        except ValueError:
            raise SemantifyError(f"--set {item!r}: {text.strip()!r} is not a number; write "
                                 "e.g. --set fat=0.5.") from None
        if not math.isfinite(value):
            raise SemantifyError(f"--set {item!r}: the value must be a finite number.")
        values[name] = value
    return values


def run(args) -> int:
    import torch

    from semantify.export import MESH_FORMATS, export_mesh, read_params, write_params
    from semantify.sliders import SliderSet

    out = Path(args.out)
    if out.suffix.lower() not in MESH_FORMATS:
        raise SemantifyError(f"--out {out.name!r}: use a .obj, .ply or .glb file name.")
    slider_set = SliderSet.load(args.sliders)
    values: dict[str, float] = {}
    if args.params_in:
        params = read_params(args.params_in)
        if params.get("model", {}).get("id", slider_set.model_id) != slider_set.model_id:
            raise SemantifyError(f"{args.params_in} is for {params['model']['id']!r}, the slider "
                                 f"set drives {slider_set.model_id!r}; use its own slider set.")
        values = parse_set([f"{k}={v}" for k, v in params["sliders"].items()])
    values.update(parse_set(args.set))
    row = slider_set.clamp(slider_set.values_tensor(values))
    coefficients = slider_set.coefficients(row, warn=False)
    model = slider_set.load_model()
    with torch.no_grad():
        vertices = model(coefficients)[0].cpu().numpy()
    export_mesh(out, vertices, model.faces.cpu().numpy(), model.uv_map)
    print(f"wrote {out} ({vertices.shape[0]} vertices)")
    if args.params:
        write_params(args.params, {
            "format": "semantify-params", "version": 1,
            "model": {"id": slider_set.model_id, "options": slider_set.model_options},
            "slider_set": str(Path(args.sliders).resolve()),
            "sliders": dict(zip(slider_set.descriptors, row[0].tolist())),
            "coefficients": dict(zip(slider_set.coefficient_names, coefficients[0].tolist())),
        })
        print(f"wrote {args.params}")
    return 0
