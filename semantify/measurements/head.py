"""Head measurements of Anny-topology meshes (the face models' table): head circumference,
face width and the distance between the eyes; and, for expressions, the mouth's opening and
how far its corners sit above the lips' centre.

Landmarks come from Anny's own rig: the eyeball vertices (skinned to ``eye.L``/``eye.R``) give
the eye centres, and from them the brow height and the face's depth.

- ``head_cm``: head circumference, a tape around the head just above the brow ridges (the
  plane 2.5 cm above the eye centres), over the loop that encloses the head's axis;
- ``face_cm``: face width between the cheekbones (bizygomatic breadth): the widest span of the
  face's front (in front of the ears) 1.5 to 3.5 cm below the eye centres;
- ``eyes_cm``: distance between the eye centres (close to the interpupillary distance);
- ``mouth_open_cm``: the lips' opening, the upper lip's lowest midline point above the lower
  lip's highest (about 0 closed, below 0 pressed);
- ``smile_cm``: the mouth corners' height above the midpoint of those two lip points (smiling
  lifts the corners, frowning drops them).

The mouth landmarks come from Anny's expression blendshapes: the corners are the vertices that
``mouthSmileLeft``/``Right`` move most, the lips the midline vertices in front of the corners
that ``jawOpen`` leaves in place (upper) or carries down (lower).
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from semantify.measurements.sections import Sectioner

BROW_ABOVE_EYES = 0.025  # m
CHEEK_BAND = (-0.035, -0.015)  # m below the eye centres
EARS_BEHIND_EYES = 0.04  # m: vertices further back than this are the ears' side of the head
HEAD_AXIS_BEHIND_EYES = 0.08  # m: a point inside the head section at brow height
MOUTH_BAND = 0.02  # m above and below the corners where the lips' midline vertices lie
MIDLINE = 1e-3  # m: |x| of a midline vertex
UNIT = "cm"  # of every value ``HeadMeter.measure`` returns
ROWS = (("head_cm", "Head circumference", "cm"), ("face_cm", "Face width", "cm"),
        ("eyes_cm", "Eye distance", "cm"))


@functools.cache
def _anny_eyes() -> tuple[np.ndarray, np.ndarray]:
    """Vertex indices of Anny's left and right eyeballs."""
    from semantify.models.anny_models import anny_module

    anny = anny_module()
    weights, bones = anny.vertex_bone_weights.numpy(), anny.vertex_bone_indices.numpy()
    labels = list(anny.bone_labels)
    return tuple(np.flatnonzero(((bones == labels.index(bone)) & (weights > 0.5)).any(axis=1))
                 for bone in ("eye.L", "eye.R"))


@functools.cache
def _anny_mouth() -> tuple[int, int, int, int]:
    """Vertex indices of Anny's mouth corners (left, right) and of the upper and lower lips'
    inner midline points, found from the expression blendshapes (see the module docstring)."""
    from semantify.models import load_model

    model = load_model("anny-face-expression")
    names = list(model.coefficient_names)

    def moved(**weights) -> np.ndarray:
        coefficients = torch.zeros(1, len(names))
        for name, weight in weights.items():
            coefficients[0, names.index(name)] = weight
        with torch.no_grad():
            return model(coefficients)[0].double().numpy()

    rest = moved()
    left = int(np.linalg.norm(moved(mouthSmileLeft=1.0) - rest, axis=1).argmax())
    right = int(np.linalg.norm(moved(mouthSmileRight=1.0) - rest, axis=1).argmax())
    jaw = np.linalg.norm(moved(jawOpen=1.0) - rest, axis=1)
    corner = rest[[left, right]].mean(axis=0)
    lips = np.flatnonzero((np.abs(rest[:, 0] - corner[0]) < MIDLINE)
                          & (np.abs(rest[:, 1] - corner[1]) < MOUTH_BAND)
                          & (rest[:, 2] > corner[2]))
    upper = lips[jaw[lips] < 0.1 * jaw.max()]
    lower = lips[jaw[lips] > 0.3 * jaw.max()]
    return (left, right, int(upper[rest[upper, 1].argmin()]),
            int(lower[rest[lower, 1].argmax()]))


class HeadMeter:
    """Measures (B, V, 3) Anny-topology meshes in metres (+Y up, facing +Z)."""

    def __init__(self, faces):
        self.faces = np.asarray(faces, dtype=np.int64)
        self.left, self.right = _anny_eyes()
        self._sectioner = Sectioner(self.faces)

    @classmethod
    def for_model(cls, model) -> HeadMeter | None:
        """A meter for ``model`` if it has Anny's topology (anny-body, anny-face-*), else None."""
        if not model.id.startswith("anny-"):
            return None
        meter = cls(model.faces.cpu().numpy())
        return meter if max(meter.left.max(), meter.right.max()) < model.num_vertices else None

    def measure(self, vertices) -> dict[str, np.ndarray]:
        """(B, V, 3) (or one (V, 3)) vertices -> {name: (B,) values in cm}."""
        v = (vertices.detach().cpu().numpy() if isinstance(vertices, torch.Tensor)
             else np.asarray(vertices)).astype(np.float64)
        if v.ndim == 2:
            v = v[None]
        left, right = v[:, self.left].mean(axis=1), v[:, self.right].mean(axis=1)
        eyes = (left + right) / 2  # (B, 3)
        brow = eyes[:, 1] + BROW_ABOVE_EYES
        axis = np.stack([eyes[:, 0], eyes[:, 2] - HEAD_AXIS_BEHIND_EYES], axis=1)
        head = self._sectioner.girth(v, brow, axis)
        low, high = eyes[:, 1:2] + CHEEK_BAND[0], eyes[:, 1:2] + CHEEK_BAND[1]
        front = ((v[..., 1] > low) & (v[..., 1] < high)
                 & (v[..., 2] > eyes[:, 2:3] - EARS_BEHIND_EYES))
        x = np.where(front, v[..., 0], np.nan)
        face = np.nanmax(x, axis=1) - np.nanmin(x, axis=1)
        corner_left, corner_right, upper, lower = _anny_mouth()
        lips = (v[:, upper, 1] + v[:, lower, 1]) / 2
        corners = (v[:, corner_left, 1] + v[:, corner_right, 1]) / 2
        return {"head_cm": 100 * head, "face_cm": 100 * face,
                "eyes_cm": 100 * np.linalg.norm(left - right, axis=1),
                "mouth_open_cm": 100 * (v[:, upper, 1] - v[:, lower, 1]),
                "smile_cm": 100 * (corners - lips)}

    def measure_table(self, vertices) -> list[tuple[str, float, str]]:
        """Rows (label, value, unit) of the (first) mesh, for the app's table."""
        values = self.measure(vertices)
        return [(label, float(values[name][0]), unit) for name, label, unit in ROWS]
