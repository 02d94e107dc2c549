"""``semantify export``: a GLB for Blender and game engines, rigged, with the sliders as shape
keys."""

from __future__ import annotations

from semantify.errors import SemantifyError
from semantify.export.rig import INFLUENCES


def add(subparsers) -> None:
    from semantify.cli.shape import add_arguments

    p = subparsers.add_parser(
        "export", help="a rigged GLB whose sliders come along as shape keys",
        description="Write a shape for Blender, Unity, Unreal, Godot or a web viewer: with "
                    "--rig a skeleton placed for this shape and skin weights (bind pose rest, "
                    "joints in --pose, also a one-frame animation), with --shape-keys one "
                    "morph target per slider; the feet of a body stand at y = 0. Sliders are "
                    "set as for `semantify shape`.")
    add_arguments(p)


def add_rig_flags(parser) -> None:
    parser.add_argument("--rig", action="store_true",
                        help="a .glb with the model's skeleton and skin weights (Anny, SMPL, "
                             "SMPL-X, FLAME)")
    parser.add_argument("--shape-keys", action="store_true",
                        help="a .glb with one shape key (morph target) per slider")
    parser.add_argument("--influences", type=int, choices=INFLUENCES, default=INFLUENCES[0],
                        help="bones a vertex with --rig (default 4, what every engine reads; "
                             "8 follows Anny's own skinning within 1 mm)")


def check_rig_flags(args, out) -> None:
    """--rig and --shape-keys need a .glb ``out``: a one-line error before any work."""
    wanted = [flag for flag, on in (("--rig", args.rig), ("--shape-keys", args.shape_keys))
              if on]
    if wanted and out.suffix.lower() != ".glb":
        verb = "needs" if len(wanted) == 1 else "need"
        raise SemantifyError(f"{' and '.join(wanted)} {verb} a .glb file, not {out.name!r}; "
                             "write e.g. --out body.glb.")
