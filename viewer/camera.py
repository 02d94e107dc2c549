"""Views, per-model framing and orbit cameras, as 4x4 matrices for OpenGL.

Conventions: +Y up, the model faces +Z. Azimuth 0 puts the camera on +Z (it sees the model's
front), azimuth 90 puts it on +X (the model's left side); elevation 90 looks straight down.
Matrices are row-major float32 numpy arrays; write ``matrix.T`` to a GLSL ``mat4``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

from viewer.errors import ViewerError


@dataclasses.dataclass(frozen=True)
class View:
    """A named camera direction, in degrees."""

    name: str
    azimuth: float
    elevation: float


NAMED_VIEWS = {
    "front": View("front", 0.0, 0.0),
    "side": View("side", 90.0, 0.0),
    "left": View("left", 90.0, 0.0),
    "right": View("right", -90.0, 0.0),
    "back": View("back", 180.0, 0.0),
    "three-quarter": View("three-quarter", 30.0, 10.0),
    "top": View("top", 0.0, 90.0),
}


def _parse_view(text: str) -> View:
    text = str(text).strip()
    if text in NAMED_VIEWS:
        return NAMED_VIEWS[text]
    try:
        azimuth, elevation = (float(part) for part in text.split(":"))
    except ValueError:
        raise ViewerError(
            f"unknown view {text!r}; use one of {', '.join(NAMED_VIEWS)} or AZIMUTH:ELEVATION "
            "in degrees (e.g. 30:10).") from None
    if not (math.isfinite(azimuth) and -90.0 <= elevation <= 90.0):
        raise ViewerError(f"view {text!r} is out of range; azimuth must be finite and "
                          "elevation between -90 and 90 degrees.")
    return View(text, azimuth, elevation)


def parse_views(views: str | Sequence[str | View]) -> list[View]:
    """``"front,side"`` or ``["front", "30:10"]`` -> Views; a ViewerError lists valid names."""
    items = views.split(",") if isinstance(views, str) else list(views)
    parsed = [item if isinstance(item, View) else _parse_view(item) for item in items]
    if not parsed:
        raise ViewerError(f"no views given; use one or more of {', '.join(NAMED_VIEWS)}.")
    return parsed


@dataclasses.dataclass(frozen=True)
class Framing:
    """The sphere a model's camera keeps in frame: fixed per model so sizes stay comparable."""

    center: tuple[float, float, float]
    radius: float
    fov: float = 30.0

    @classmethod
    def from_vertices(cls, vertices, region=None, margin: float = 1.1,
                      fov: float = 30.0) -> Framing:
        """Frame (V, 3) ``vertices`` (or the ``region`` indices of them), ``margin`` x radius."""
        points = np.asarray(vertices, dtype=np.float64).reshape(-1, 3)
        if region is not None:
            points = points[np.asarray(region, dtype=np.int64)]
        if len(points) == 0 or not np.isfinite(points).all():
            raise ViewerError("cannot frame an empty mesh or one with NaN/inf vertices; "
                              "pass finite (V, 3) vertices.")
        center = (points.min(axis=0) + points.max(axis=0)) / 2
        radius = float(np.linalg.norm(points - center, axis=1).max()) * margin
        return cls(tuple(float(x) for x in center), max(radius, 1e-6), fov)

    @property
    def distance(self) -> float:
        """Camera distance at which the whole sphere fits the vertical field of view."""
        return self.radius / math.sin(math.radians(self.fov) / 2)


@dataclasses.dataclass
class OrbitCamera:
    """An interactive camera: degrees, ``distance`` as a multiple of the framing distance,
    and ``pan`` (right, up) in units of the framing radius."""

    azimuth: float = 0.0
    elevation: float = 10.0
    distance: float = 1.0
    pan: tuple[float, float] = (0.0, 0.0)

    def clamped(self) -> OrbitCamera:
        """This camera with every value made safe: NaN, inf or a non-number falls back to the
        default, azimuth wraps into [-180, 180), elevation, distance and pan are clamped to
        :data:`ELEVATION_RANGE`, :data:`DISTANCE_RANGE` and :data:`PAN_LIMIT`."""
        default = OrbitCamera()
        azimuth = (_finite(self.azimuth, default.azimuth) + 180.0) % 360.0 - 180.0
        elevation = _clamp(_finite(self.elevation, default.elevation), *ELEVATION_RANGE)
        distance = _clamp(_finite(self.distance, default.distance), *DISTANCE_RANGE)
        try:
            right, up = self.pan
        except (TypeError, ValueError):
            right, up = default.pan
        pan = tuple(_clamp(_finite(value, 0.0), -PAN_LIMIT, PAN_LIMIT) for value in (right, up))
        return OrbitCamera(azimuth, elevation, distance, pan)


# An orbit camera's limits: what a page's viewer lets people reach (it reads them from
# orbit_limits()) and what the renderer clamps any camera to. A named view stays drawable: the
# top view (elevation 90) is drawn from 89 degrees.
ELEVATION_RANGE = (-89.0, 89.0)
DISTANCE_RANGE = (0.2, 4.0)  # multiples of the framing distance
PAN_LIMIT = 2.5  # framing radii


def orbit_limits() -> dict:
    """:data:`ELEVATION_RANGE`, :data:`DISTANCE_RANGE` and :data:`PAN_LIMIT` as JSON for a
    page's viewer: ``{"elevation": [low, high], "distance": [low, high], "pan": limit}``."""
    return {"elevation": list(ELEVATION_RANGE), "distance": list(DISTANCE_RANGE),
            "pan": PAN_LIMIT}


def _finite(value, default: float) -> float:
    """``value`` as a finite float, else ``default``."""
    try:
        value = float(value)
    except (TypeError, ValueError, OverflowError):
        return default
    return value if math.isfinite(value) else default


def _clamp(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)


def _look_at(eye: np.ndarray, target: np.ndarray, up: np.ndarray) -> np.ndarray:
    forward = target - eye
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, up)
    right /= np.linalg.norm(right)
    true_up = np.cross(right, forward)
    matrix = np.eye(4)
    matrix[0, :3], matrix[1, :3], matrix[2, :3] = right, true_up, -forward
    matrix[:3, 3] = -matrix[:3, :3] @ eye
    return matrix


def view_matrix(framing: Framing, azimuth: float, elevation: float, distance: float = 1.0,
                pan: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """(4, 4) float32 world-to-camera matrix of a camera orbiting ``framing.center``."""
    az, el = math.radians(azimuth), math.radians(elevation)
    direction = np.array([math.sin(az) * math.cos(el), math.sin(el), math.cos(az) * math.cos(el)])
    # d(direction)/d(elevation): always perpendicular to it, so never degenerate (top view).
    up = np.array([-math.sin(az) * math.sin(el), math.cos(el), -math.cos(az) * math.sin(el)])
    right = np.cross(up, direction)
    target = np.array(framing.center) + framing.radius * (pan[0] * right + pan[1] * up)
    eye = target + framing.distance * distance * direction
    return _look_at(eye, target, up).astype(np.float32)


def projection_matrix(framing: Framing, distance: float = 1.0,
                      aspect: float = 1.0) -> np.ndarray:
    """(4, 4) float32 perspective projection with depth range fitted to the framing."""
    depth = framing.distance * distance
    near = max(depth - 2.0 * framing.radius, depth * 0.02)
    far = depth + 50.0 * framing.radius
    focal = 1.0 / math.tan(math.radians(framing.fov) / 2)
    return np.array([
        [focal / aspect, 0, 0, 0],
        [0, focal, 0, 0],
        [0, 0, (far + near) / (near - far), 2 * far * near / (near - far)],
        [0, 0, -1, 0],
    ], dtype=np.float32)
