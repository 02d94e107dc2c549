"""``semantify shape``: a mesh (OBJ/PLY/GLB) from slider values, and the params that rebuild it."""

from __future__ import annotations

import math

from semantify.cli.results import add_outputs, check_outputs, check_pose, write_result
from semantify.errors import SemantifyError


def add(subparsers) -> None:
    p = subparsers.add_parser(
        "shape", help="build a mesh from slider values",
        description="Set sliders by name (unset ones take their defaults) and write the mesh. "
                    "Values outside a slider's range are clamped to it, with a note.")
    p.add_argument("sliders", help="slider set folder (written by `semantify train`)")
    p.add_argument("--set", action="append", default=None, metavar="NAME=VALUE",
                   help="a slider value (repeatable)")
    p.add_argument("--params-in", default=None, metavar="P.json",
                   help="params of an earlier result to reproduce (--set overrides)")
    add_outputs(p)
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
    from semantify.params import Params
    from semantify.sliders import SliderSet

    out, params_out = check_outputs(args)
    slider_set = SliderSet.load(args.sliders)
    values: dict[str, float] = {}
    params = Params.read(args.params_in) if args.params_in else None
    pose = check_pose(slider_set, args.pose or (params.pose if params else None))
    if params is not None:
        values = slider_set.shape_from_params(params, args.params_in).named_values
    values.update(parse_set(args.set))
    write_result(slider_set.shape(values), out, params_out, pose, args.appearance)
    return 0
