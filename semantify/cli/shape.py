"""``semantify shape``: a mesh (OBJ/PLY/GLB) from slider values, and the params that rebuild it."""

from __future__ import annotations

import math

from semantify.cli.batch import numbered, read_rows
from semantify.cli.export import check_rig_flags
from semantify.cli.results import add_outputs, check_outputs, check_pose, write_result
from semantify.errors import SemantifyError


def add(subparsers) -> None:
    p = subparsers.add_parser(
        "shape", help="build a mesh from slider values",
        description="Set sliders by name (unset ones take their defaults) and write the mesh. "
                    "Values outside a slider's range are clamped to it, with a note.")
    add_arguments(p)


def add_arguments(p) -> None:
    """The arguments of ``shape``, which ``export`` shares."""
    from semantify.cli.export import add_rig_flags

    p.add_argument("sliders", help="slider set folder (written by `semantify train`)")
    p.add_argument("--set", action="append", default=None, metavar="NAME=VALUE",
                   help="a slider value (repeatable)")
    p.add_argument("--params-in", default=None, metavar="P.json",
                   help="params of an earlier result to reproduce (--set overrides)")
    p.add_argument("--batch", default=None, metavar="ROWS.csv",
                   help="one mesh per row of this CSV (first row: slider names; an empty cell "
                        "leaves the slider unset; --params-in and --set apply to every row), "
                        "written as OUT-1.glb, OUT-2.glb... (and P-1.json...)")
    add_outputs(p)
    add_rig_flags(p)
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
    from semantify.sets.params import Params
    from semantify.sets.sliders import SliderSet

    out, params_out = check_outputs(args)
    check_rig_flags(args, out)
    slider_set = SliderSet.load(args.sliders)
    values: dict[str, float] = {}
    params = Params.read(args.params_in) if args.params_in else None
    pose = check_pose(slider_set, args.pose or (params.pose if params else None))
    if params is not None:
        values = slider_set.shape_from_params(params, args.params_in).set_values
    values.update(parse_set(args.set))
    if args.batch is None:
        write_result(slider_set.shape(values), out, params_out, pose, args.appearance,
                     args.rig, args.shape_keys, args.influences, as_json=args.json)
        return 0
    rows = read_rows(args.batch, slider_set)
    shapes = [{**values, **row} for row in rows]
    for given in shapes:
        slider_set.values(given)  # every row checked before the first mesh is written
    for index, given in enumerate(shapes, start=1):
        write_result(slider_set.shape(given), numbered(out, index, len(rows)),
                     params_out and numbered(params_out, index, len(rows)), pose,
                     args.appearance, args.rig, args.shape_keys, args.influences,
                     as_json=args.json)
    return 0
