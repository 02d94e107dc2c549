"""Batch rendering for data: B meshes of one topology x V views -> uint8 images.

Speed on a CPU (llvmpipe) and a GPU alike: the index buffer is uploaded once; each batch
uploads only float32 vertices, in one write; normals are flat, computed in the fragment
shader from screen-space derivatives; back faces are culled (triangles wind counter-clockwise
seen from outside, as in every model here); all (mesh, view) tiles of up to 64 images go into one
tall framebuffer (one viewport per tile), read back once as RGB bytes.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import moderngl
import numpy as np

from viewer import unlocked
from viewer.camera import Framing, View, parse_views, projection_matrix, view_matrix
from viewer.colors import check_color
from viewer.context import check_samples, check_size, gl_session, max_image_size, unlocked_calls
from viewer.errors import ViewerError
from viewer.lighting import Lighting
from viewer.material import CLAY, Material, UVLayout, vertex_albedo
from viewer.mesh import check_faces, check_vertices
from viewer.programs import build_program, set_uniforms

MAX_TILES_PER_PASS = 64


class BatchRenderer:
    """Render (B, V, 3) vertices from fixed ``views`` into (B, n_views, size, size, 3) uint8.

    The camera of every view comes from one ``framing`` (a model's mean shape), never from
    the mesh being drawn, so that a taller body looks taller. ``samples`` > 0 enables MSAA.
    Clay is one uniform colour; skin (a textured or scattering ``material``) bakes its texture,
    averaged per vertex through ``uv_layout``, into one per-vertex colour uploaded once.
    ``stats`` accumulates seconds spent uploading, drawing and reading back.
    """

    def __init__(self, faces, framing: Framing, views: str | Sequence[str | View],
                 size: int = 224, background=(0.0, 0.0, 0.0), lighting: Lighting | None = None,
                 samples: int = 0, material: Material = CLAY, uv_layout: UVLayout | None = None):
        self.faces = check_faces(faces)
        self.material = material
        self.framing = framing
        self.views = parse_views(views)
        self.background = check_color(background)
        self.lighting = lighting or Lighting()
        self._background_bytes = np.round(np.array(self.background) * 255).astype(np.uint8)
        self._view_matrices = [view_matrix(framing, view.azimuth, view.elevation)
                               for view in self.views]
        self.stats = {"upload": 0.0, "draw": 0.0, "readback": 0.0, "views": 0}
        self._vertex_buffer = self._vertex_array = None
        with gl_session() as context:
            self.size = check_size(context, size)
            self.samples = check_samples(context, samples)
            self.tiles_per_pass = max(1, min(MAX_TILES_PER_PASS, max_image_size(context) // size))
            shape = (self.size, self.size * self.tiles_per_pass)
            skin = material.texture is not None or material.subsurface > 0
            self._program = build_program(context, "batch", ("SKIN",) if skin else ())
            self._position = self._program["in_position"].location
            set_uniforms(self._program, **self.lighting.uniforms(),
                         albedo=material.uniforms()["albedo"],
                         projection=projection_matrix(framing))
            self._index_buffer = context.buffer(self.faces.tobytes())
            self._albedo_buffer = None
            if skin:  # clay keeps the cheapest path: one uniform colour, no extra attribute
                albedo = vertex_albedo(material, uv_layout, int(self.faces.max()) + 1) ** 2.2
                self._albedo_buffer = context.buffer(np.ascontiguousarray(albedo, np.float32))
            self._target = self._framebuffer(context, shape, 0)
            self._multisampled = self._framebuffer(context, shape, samples) if samples else None

    @staticmethod
    def _framebuffer(context: moderngl.Context, shape, samples: int) -> moderngl.Framebuffer:
        try:
            return context.framebuffer(context.renderbuffer(shape, 4, samples=samples),
                                       context.depth_renderbuffer(shape, samples=samples))
        except moderngl.Error as error:
            raise ViewerError(f"cannot allocate a {shape[0]}x{shape[1]} framebuffer ({error}); "
                              "use a smaller size.") from None

    def render(self, vertices) -> np.ndarray:
        """(B, V, 3) float vertices (numpy or torch) -> (B, n_views, size, size, 3) uint8."""
        vertices = check_vertices(vertices, self.faces, batched=True)
        n_views, size = len(self.views), self.size
        tiles = np.empty((len(vertices) * n_views, size, size, 3), dtype=np.uint8)
        with gl_session() as context:
            self._upload(context, vertices)
            for start in range(0, len(tiles), self.tiles_per_pass):
                stop = min(start + self.tiles_per_pass, len(tiles))
                self._draw(context, range(start, stop), vertices.shape[1])
                tiles[start:stop] = self._read(context, stop - start)
        self.stats["views"] += len(tiles)
        self._check_not_empty(tiles)
        return tiles.reshape(len(vertices), n_views, size, size, 3)

    def _upload(self, context: moderngl.Context, vertices: np.ndarray) -> None:
        started = time.perf_counter()
        if self._vertex_buffer is None or self._vertex_buffer.size < vertices.nbytes:
            self._release_vertices()
            self._vertex_buffer = context.buffer(reserve=vertices.nbytes, dynamic=True)
            attributes = [(self._vertex_buffer, "3f", "in_position")]
            if self._albedo_buffer is not None:
                attributes.append((self._albedo_buffer, "3f", "in_albedo"))
            self._vertex_array = context.vertex_array(
                self._program, attributes, index_buffer=self._index_buffer,
                index_element_size=4)
        else:
            self._vertex_buffer.orphan()
        self._vertex_buffer.write(vertices)
        self.stats["upload"] += time.perf_counter() - started

    def _draw(self, context: moderngl.Context, tiles: range, num_vertices: int) -> None:
        started = time.perf_counter()
        framebuffer = self._multisampled or self._target
        framebuffer.use()
        framebuffer.clear(*self.background, 1.0,
                          viewport=(0, 0, self.size, self.size * len(tiles)))
        context.enable_only(moderngl.DEPTH_TEST | moderngl.CULL_FACE)
        context.wireframe = False
        bound = None
        for slot, tile in enumerate(tiles):
            mesh, view = divmod(tile, len(self.views))
            if mesh != bound:
                self._vertex_array.bind(self._position, "f", self._vertex_buffer, "3f",
                                        offset=mesh * num_vertices * 12)
                bound = mesh
            matrix = self._view_matrices[view]
            set_uniforms(self._program, view=matrix, up_view=tuple(matrix[:3, 1].tolist()))
            context.viewport = (0, slot * self.size, self.size, self.size)
            self._vertex_array.render(moderngl.TRIANGLES)
        unlocked.finish(context, unlocked_calls(), self._multisampled, self._target, self.size,
                        self.size * len(tiles))  # other threads run meanwhile (viewer.unlocked)
        self.stats["draw"] += time.perf_counter() - started

    def _read(self, context: moderngl.Context, count: int) -> np.ndarray:
        """(count, size, size, 3) uint8 tiles, top row first."""
        started = time.perf_counter()
        height = self.size * count
        images = unlocked.read(unlocked_calls(), self._target, self.size, height,
                               rebind=self._multisampled or self._target)
        images = images.reshape(count, self.size, self.size, 3)
        self.stats["readback"] += time.perf_counter() - started
        return images[:, ::-1]

    def _check_not_empty(self, tiles: np.ndarray) -> None:
        drawn = (tiles != self._background_bytes).any(axis=(1, 2, 3))
        if not drawn.all():
            mesh, view = divmod(int(np.argmin(drawn)), len(self.views))
            raise ViewerError(
                f"mesh {mesh} rendered from view {self.views[view].name!r} shows only background: "
                "the mesh is out of frame; check the framing was computed from vertices in the "
                "same units and place (metres, +Y up).")

    def _release_vertices(self) -> None:
        for resource in (self._vertex_array, self._vertex_buffer):
            if resource is not None:
                resource.release()
        self._vertex_buffer = self._vertex_array = None

    def release(self) -> None:
        """Free the GL objects; the renderer cannot be used afterwards."""
        with gl_session():
            self._release_vertices()
            for resource in (self._multisampled, self._target, self._index_buffer,
                             self._albedo_buffer, self._program):
                if resource is not None:
                    for attachment in getattr(resource, "color_attachments", ()):
                        attachment.release()
                    if getattr(resource, "depth_attachment", None) is not None:
                        resource.depth_attachment.release()
                    resource.release()
            self._multisampled = self._target = self._index_buffer = self._program = None
            self._albedo_buffer = None
