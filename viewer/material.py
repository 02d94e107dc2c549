"""Surface materials and texture layouts: what a mesh looks like, independent of any model.

A :class:`Material` is matte ``clay`` (one colour, the look of a sculpting tool) or ``skin``
(a colour or an albedo texture, lit with wrapped, red-shifted diffuse light for the light that
scatters under skin, and a soft sheen). A :class:`UVLayout` splits a mesh's vertices where its
texture coordinates have seams, which OpenGL needs to draw a texture.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from viewer.colors import check_color
from viewer.errors import ViewerError
from viewer.lighting import srgb_to_linear
from viewer.mesh import as_numpy, check_faces

Color = tuple[float, float, float]
CLAY_COLOR = (0.8, 0.67, 0.59)
SKIN_COLOR = (0.8, 0.62, 0.53)


@dataclasses.dataclass(frozen=True, eq=False)
class Material:
    """How a surface looks.

    ``albedo`` is the display colour used without a texture; ``texture`` an (H, W, 3) or
    (H, W, 4) uint8 sRGB image whose top row is v = 1 (as images are stored), its alpha, if
    any, how much light scatters under the surface there (thin ears and nostrils glow).
    ``subsurface`` in [0, 1] scales that scattering (0: clay), ``roughness`` in (0, 1] the
    highlight's spread and ``specular`` its strength.
    """

    name: str
    albedo: Color = CLAY_COLOR
    texture: np.ndarray | None = None
    subsurface: float = 0.0
    roughness: float = 0.47  # a highlight exponent of 40, the studio clay look
    specular: float = 0.12

    def __post_init__(self):
        check_color(self.albedo, what=f"material {self.name!r} albedo")
        if self.texture is not None:
            texture = np.asarray(self.texture)
            if (texture.dtype != np.uint8 or texture.ndim != 3 or texture.shape[2] not in (3, 4)
                    or min(texture.shape[:2]) < 1):
                raise ViewerError(f"material {self.name!r}: texture must be an (H, W, 3 or 4) "
                                  f"uint8 image, got {texture.dtype} {texture.shape}.")
        for field, low in (("subsurface", 0.0), ("roughness", 0.05), ("specular", 0.0)):
            value = getattr(self, field)
            if not (isinstance(value, (int, float)) and low <= value <= 1.0):
                raise ViewerError(f"material {self.name!r}: {field} must be a number in "
                                  f"[{low:g}, 1], got {value!r}.")

    def uniforms(self) -> dict:
        """Uniform values for the mesh shaders (colours in linear RGB)."""
        return {"albedo": srgb_to_linear(self.albedo),
                "subsurface": float(self.subsurface), "roughness": float(self.roughness),
                "specular": float(self.specular)}


CLAY = Material("clay")


def skin(texture: np.ndarray | None = None, albedo: Color = SKIN_COLOR) -> Material:
    """A skin material: ``texture`` (see :class:`Material`) or one skin tone."""
    return Material("skin", albedo, texture, subsurface=1.0, roughness=0.5, specular=0.14)


@dataclasses.dataclass(frozen=True, eq=False)
class UVLayout:
    """A mesh with texture coordinates, as OpenGL draws it: one GL vertex per distinct
    (vertex, texture coordinate) pair.

    ``source`` (U,) int64: the mesh vertex each GL vertex copies; ``uv`` (U, 2) float32 texture
    coordinates (v up); ``faces`` (F, 3) uint32 triangles into the U GL vertices.
    """

    source: np.ndarray
    uv: np.ndarray
    faces: np.ndarray

    @classmethod
    def from_corners(cls, faces, uv_coords, uv_faces) -> UVLayout:
        """(F, 3) mesh faces, (T, 2) coordinates and (F, 3) faces into them -> a layout."""
        faces = check_faces(faces).astype(np.int64)
        uv_faces = check_faces(uv_faces).astype(np.int64)
        coords = np.asarray(as_numpy(uv_coords), dtype=np.float32)
        if uv_faces.shape != faces.shape or coords.ndim != 2 or coords.shape[1] != 2 \
                or uv_faces.max() >= len(coords):
            raise ViewerError(f"texture coordinates do not match the mesh: {uv_faces.shape} uv "
                              f"faces into {coords.shape} coordinates for {faces.shape} faces.")
        keys = faces.ravel() * len(coords) + uv_faces.ravel()
        unique, inverse = np.unique(keys, return_inverse=True)
        return cls(source=unique // len(coords), uv=coords[unique % len(coords)],
                   faces=inverse.reshape(faces.shape).astype(np.uint32))


def vertex_albedo(material: Material, layout: UVLayout | None, num_vertices: int) -> np.ndarray:
    """(V, 3) float32 display colour per mesh vertex: the texture averaged over each vertex's
    texture coordinates (sampled from a copy reduced to about the mesh's own detail), or the
    material's albedo. Cheap to draw: no texture, no seams."""
    colors = np.tile(np.asarray(material.albedo, dtype=np.float32), (num_vertices, 1))
    if material.texture is None or layout is None:
        return colors
    from PIL import Image

    texture = np.asarray(material.texture)[..., :3]
    side = int(np.clip(4 * np.sqrt(num_vertices), 64, max(texture.shape[:2])))
    small = np.asarray(Image.fromarray(texture).resize((side, side), Image.BOX), np.float32)
    columns = np.clip((layout.uv[:, 0] * side).astype(int), 0, side - 1)
    rows = np.clip(((1.0 - layout.uv[:, 1]) * side).astype(int), 0, side - 1)
    samples = small[rows, columns] / 255.0
    totals = np.zeros((num_vertices, 3), np.float64)
    np.add.at(totals, layout.source, samples)
    counts = np.bincount(layout.source, minlength=num_vertices)[:, None]
    used = counts[:, 0] > 0
    colors[used] = (totals[used] / counts[used]).astype(np.float32)
    return colors
