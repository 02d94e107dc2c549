"""What the shape-making commands (shape, fit, text) share: output checks made before any
work, and writing the mesh and its params."""

from __future__ import annotations

import functools
import json
import math
import os
import sys
from pathlib import Path

from semantify.errors import SemantifyError
from semantify.export import MESH_FORMATS
from semantify.files import new_file_beside, write_failure


def add_outputs(parser) -> None:
    from semantify.pictures.appearance import APPEARANCES, DEFAULT_APPEARANCE

    parser.add_argument("--out", required=True, help="mesh file: .obj (with UVs), .ply or .glb")
    parser.add_argument("--params", default=None, metavar="P.json",
                        help="also write the params JSON that reproduces the result")
    parser.add_argument("--pose", default=None,
                        help="pose of the written mesh (default rest; a wrong name lists the "
                             "model's poses); measurements are always taken at rest")
    parser.add_argument("--appearance", choices=APPEARANCES, default=DEFAULT_APPEARANCE,
                        help=f"material a .glb carries (default {DEFAULT_APPEARANCE})")
    parser.add_argument("--json", action="store_true",
                        help="print the result as one line of JSON on stdout (files, "
                             "sliders, measurements, notes; a line per row with --batch); the "
                             "lines for people go to stderr")


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
    try:  # a real try: permissions alone pass /proc for root
        os.unlink(new_file_beside(target, ".probe"))
    except OSError as error:
        raise SemantifyError(f"{flag} {path!r}: cannot write there: "
                             f"{write_failure(error)}.") from None
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


def write_result(shape, out: Path, params: Path | None, pose, appearance: str,
                 rig: bool = False, shape_keys: bool = False,
                 influences: int = 4, as_json: bool = False) -> None:
    """Save ``shape``'s mesh in ``pose`` (and params; a .glb optionally rigged and with shape
    keys), and tell what happened: notes on stderr, the result on stdout (``as_json``: only
    :func:`result_record` as JSON there, the lines for people go to stderr)."""
    from semantify.export import export_shape

    say = functools.partial(print, file=sys.stderr) if as_json else print

    if shape.clamped:
        print(f"semantify: note: clamped into their ranges: {', '.join(shape.clamped)}.",
              file=sys.stderr)
    for note in shape.notes:
        print(f"semantify: {note}", file=sys.stderr)
    exported = export_shape(shape, out, pose, appearance, rig, shape_keys, influences)
    say(f"wrote {out} ({shape.vertices.shape[0]} vertices, {pose.name} pose)")
    if exported.rig is not None:
        mean, largest = exported.rig.deviation_mm
        say(f"rig: {len(exported.rig.names)} bones, {influences} a vertex, bind pose rest, "
            f"joints in the {pose.name} pose (strays {mean:.2f} mm on average, "
            f"{largest:.2f} mm at most, from semantify's)")
        say(exported.rig.fit.summary())
        if exported.rig.corrective_name is not None:
            say(f"pose correctives: morph target {exported.rig.corrective_name} at weight 1 "
                "(the pose as the model makes it; weight 0 is the bind pose)")
    if exported.shape_keys is not None:
        say(exported.shape_keys.summary())
    if params is not None:
        shape.params(None if pose.is_rest else pose.name).write(params)
        say(f"wrote {params}")
    values = ", ".join(f"{n}={v:.4g}" for n, v in shape.named_values.items())
    say(f"sliders: {values}")
    measured = shape.measurements()
    if measured:
        say("measurements: " + ", ".join(measurement_text(n, v) for n, v in measured.items()))
    if as_json:
        print(json.dumps(result_record(shape, out, params, pose, measured)), flush=True)


def measurement_text(name: str, value: float) -> str:
    """'Height 172.4 cm' (a girth a foreign mesh misses: 'Waist -')."""
    from semantify.measurements.registry import measurement

    known = measurement(name)
    if not math.isfinite(value):
        return f"{known.label} -"
    return f"{known.label} {value:.1f} {known.unit}"


def result_record(shape, out: Path, params: Path | None, pose, measured: dict) -> dict:
    """What ``--json`` prints for one result: the files written, the set and model, the slider
    values, the rest-pose measurements (cm, kg; null where one cannot be taken) and notes."""
    return {"mesh": str(out), "params": None if params is None else str(params),
            "slider_set": shape.slider_set.name, "model": shape.slider_set.model_id,
            "pose": pose.name, "sliders": shape.named_values,
            "measurements": {n: round(v, 2) if math.isfinite(v) else None
                             for n, v in measured.items()},
            "clamped": list(shape.clamped), "notes": list(shape.notes)}
