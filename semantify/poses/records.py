"""Poses and skeletons as data: ``presets/*.json`` and ``skeletons/*.json``, read into records.

A pose file names joints of one shared vocabulary (SMPL-X's body joint names: ``pelvis``,
``left_hip``, ``spine1``, ``neck``, ``left_shoulder``, ``left_elbow``, ``jaw``, ...) and gives each
a rotation ``[x, y, z]`` in degrees, applied about the model's axes (x: the model's left, y: up,
z: forward) in the order x, then y, then z. Rotations are relative to the T-pose (SMPL's zero
pose: standing, arms straight out sideways, palms down), each in the frame its parent joint has
carried it to, exactly as SMPL's ``body_pose`` works; a pose with ``"base": "rest"`` instead
leaves the joints it does not name at the model's rest pose (head poses do, so the arms of an
A-posed body stay down). So a left arm lowered to the side is
``"left_shoulder": [0, 0, -70]``; a thigh raised forward is ``"left_hip": [-90, 0, 0]``; a knee
bent is ``"left_knee": [90, 0, 0]``.

A skeleton file maps that vocabulary onto a model family's bones (a joint may drive a chain of
bones, which then share its rotation) and, when the family's rest pose is not the T-pose, says
how to reach it: ``t_pose`` aims a bone so that its head -> ``tip`` segment points along
``direction`` (Anny rests in an A-pose). ``bones`` lists the bones in the model's order when the
model file has no names (SMPL, SMPL-X, FLAME); without ``joints``, joints are bones of the same
name.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from pathlib import Path

from semantify.errors import SemantifyError
from semantify.files import check_format, read_json

PRESET_DIR = Path(__file__).with_name("presets")
SKELETON_DIR = Path(__file__).with_name("skeletons")
POSE_FORMAT, SKELETON_FORMAT, VERSION = "semantify-pose", "semantify-skeleton", 1
REST = "rest"
BASES = ("t-pose", "rest")  # what the joints a pose does not name do
# Joints that move only the head: the poses a head-framed model (a face) can show.
HEAD_JOINTS = frozenset({"neck", "head", "jaw", "left_eye", "right_eye"})
MAX_DEGREES = 360.0

Rotation = tuple[float, float, float]


@dataclasses.dataclass(frozen=True)
class Pose:
    """A named pose: per-joint rotations (degrees, model axes, relative to the T-pose).

    ``rest`` (no rotations, and not relative to the T-pose) is each model's own rest pose, the
    one it is measured in.
    """

    name: str
    label: str
    description: str = ""
    rotations: tuple[tuple[str, Rotation], ...] = ()
    base: str = "t-pose"

    @property
    def joints(self) -> frozenset[str]:
        return frozenset(joint for joint, _ in self.rotations)

    @property
    def is_rest(self) -> bool:
        return self.name == REST

    @classmethod
    def from_dict(cls, name: str, data: dict, source: str) -> Pose:
        """Validate a pose file's content; ``source`` names it in errors."""
        _check_header(data, POSE_FORMAT, source)
        rotations = data.get("rotations", {})
        if not isinstance(rotations, dict):
            raise SemantifyError(f"{source}: 'rotations' must map joint names to [x, y, z] "
                                 "degrees.")
        checked = []
        for joint, angles in rotations.items():
            if (not isinstance(angles, list) or len(angles) != 3
                    or not all(_is_angle(a) for a in angles)):
                raise SemantifyError(f"{source}: joint {joint!r} needs [x, y, z] degrees, each "
                                     f"within ±{MAX_DEGREES:g}; got {angles!r}.")
            checked.append((str(joint), tuple(float(a) for a in angles)))
        base = data.get("base", BASES[0])
        if base not in BASES:
            raise SemantifyError(f"{source}: 'base' must be one of {', '.join(BASES)}, got "
                                 f"{base!r}.")
        return cls(name, str(data.get("label") or name), str(data.get("description", "")),
                   tuple(checked), base)


REST_POSE = Pose(REST, "Rest (measurement pose)",
                 "The model's own rest pose; every measurement is taken in it.", base=REST)


@dataclasses.dataclass(frozen=True)
class Aim:
    """Turn ``bone`` so that its head -> ``tip`` head segment points along ``direction``."""

    bone: str
    tip: str
    direction: tuple[float, float, float]


@dataclasses.dataclass(frozen=True)
class Skeleton:
    """How the shared joint vocabulary drives one model family's bones."""

    id: str
    joints: tuple[tuple[str, tuple[str, ...]], ...]
    bones: tuple[str, ...] = ()  # the model's bone order, when its files carry no names
    t_pose: tuple[Aim, ...] = ()
    description: str = ""

    @property
    def joint_names(self) -> frozenset[str]:
        return frozenset(joint for joint, _ in self.joints)

    def bones_of(self, joint: str) -> tuple[str, ...]:
        return dict(self.joints)[joint]

    @classmethod
    def from_dict(cls, data: dict, source: str) -> Skeleton:
        _check_header(data, SKELETON_FORMAT, source)
        bones = tuple(data.get("bones", ()))
        joints = data.get("joints") or {bone: [bone] for bone in bones}
        aims = tuple(Aim(a["bone"], a["tip"], tuple(float(x) for x in a["direction"]))
                     for a in data.get("t_pose", ()))
        return cls(str(data["id"]), tuple((j, tuple(b)) for j, b in joints.items()), bones,
                   aims, str(data.get("description", "")))


def _is_angle(value) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value) and abs(value) <= MAX_DEGREES)


def _check_header(data, expected: str, source: str) -> None:
    check_format(data, expected, VERSION, source,
                 f'write a JSON object with "format": "{expected}", "version": {VERSION}.')


def _read(path: Path) -> dict:
    return read_json(path, str(path), "pass a pose JSON file")


@functools.cache
def presets() -> dict[str, Pose]:
    """Every shipped pose by name (the file stem), ``rest`` first."""
    found = {REST: REST_POSE}
    for path in sorted(PRESET_DIR.glob("*.json")):
        found[path.stem] = Pose.from_dict(path.stem, _read(path), path.name)
    return found


@functools.cache
def skeleton(skeleton_id: str) -> Skeleton:
    """The shipped skeleton ``skeleton_id`` (model data: the id comes from the model)."""
    known = {path.stem: path for path in SKELETON_DIR.glob("*.json")}
    if skeleton_id not in known:
        raise SemantifyError(f"no skeleton {skeleton_id!r}; shipped: {', '.join(sorted(known))}.")
    return Skeleton.from_dict(_read(known[skeleton_id]), known[skeleton_id].name)


def pose_file(path: str | Path) -> Pose:
    """A user's own pose file (same format as the presets), named by its stem."""
    path = Path(path)
    if not path.is_file():
        raise SemantifyError(f"pose file {str(path)!r} does not exist; pass a shipped pose "
                             "name or an existing .json file.")
    return Pose.from_dict(path.stem, _read(path), str(path))
