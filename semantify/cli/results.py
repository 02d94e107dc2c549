"""What the shape-making commands (shape, fit, text) share: output checks made before any
work, and writing the mesh and its params."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from semantify.errors import SemantifyError
from semantify.export import MESH_FORMATS



def add_outputs(parser) -> None:
    from semantify.appearance import APPEARANCES

    parser.add_argument("--out", required=True, help="mesh file: .obj (with UVs), .ply or .glb")
    parser.add_argument("--params", default=None, metavar="P.json",
                        help="also write the params JSON that reproduces the result")
    parser.add_argument("--pose", default=None,
                        help="pose of the written mesh (default rest; a wrong name lists the "
                             "model's poses); measurements are always taken at rest")
    parser.add_argument("--appearance", choices=APPEARANCES, default="clay",
                        help="material a .glb carries (default clay)")


def writable_file(path: str, flag: str, suffixes: tuple[str, ...]) -> Path:
    """``path`` if a file of one of ``suffixes`` can be written there, else a one-line error.
    The folder must exist already: a mistyped path should not create folders."""
    target = Path(path)
    if target.is_dir():
        raise SemantifyError(f"{flag} {path!r} is a folder; give a file name inside it.")
    if target.suffix.lower() not in suffixes:
        raise SemantifyError(f"{flag} {target.name!r}: use a {', '.join(suffixes)} file name.")
    folder = target.parent
    if not (folder.is_dir() and os.access(folder, os.W_OK)):
        raise SemantifyError(f"{flag} {path!r}: {str(folder)!r} is not a writable folder; "
                             "choose a path in an existing, writable folder.")
    return target


def check_outputs(args) -> tuple[Path, Path | None]:
    """The --out mesh and --params paths, checked before any work is done."""
    out = writable_file(args.out, "--out", MESH_FORMATS)
    params = writable_file(args.params, "--params", (".json",)) if args.params else None
    return out, params


def check_pose(slider_set, pose: str | None):
    """The :class:`semantify.poses.Pose` ``pose`` names (None: rest; a shipped name or a pose
    .json file) if ``slider_set``'s model can take it, else a one-line error listing its
    poses. Resolved once: the mesh is posed with it, the params record its name."""
    from semantify.poses import resolve_pose

    return resolve_pose(slider_set.model, pose or "rest")


def write_result(shape, out: Path, params: Path | None, pose,
                 appearance: str = "clay") -> None:
    """Save ``shape``'s mesh in ``pose`` (and params), and tell what happened on
    stdout/stderr."""
    if shape.clamped:
        print(f"semantify: note: clamped into their ranges: {', '.join(shape.clamped)}.",
              file=sys.stderr)
    for note in shape.notes:
        print(f"semantify: {note}", file=sys.stderr)
    shape.save(out, pose, appearance)
    print(f"wrote {out} ({shape.vertices.shape[0]} vertices, {pose.name} pose)")
    if params is not None:
        shape.params(None if pose.is_rest else pose.name).write(params)
        print(f"wrote {params}")
    values = ", ".join(f"{n}={v:.4g}" for n, v in shape.named_values.items())
    print(f"sliders: {values}")
