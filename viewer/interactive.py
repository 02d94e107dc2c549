"""Interactive rendering for the app: one mesh, an orbit camera, studio look, MSAA.

Each frame draws a background gradient, a floor grid with a soft blob shadow, the mesh with
smooth normals (optionally per-vertex colours) and an optional wireframe overlay, into a
multisampled framebuffer that is resolved into a plain one, read back and flipped.
"""

from __future__ import annotations

import math
import time

import moderngl
import numpy as np

from viewer.camera import Framing, OrbitCamera, projection_matrix, view_matrix
from viewer.colors import check_gradient
from viewer.context import check_samples, check_size, gl_session
from viewer.errors import ViewerError
from viewer.lighting import Lighting
from viewer.mesh import VertexNormals, as_numpy, check_faces, check_vertices
from viewer.programs import build_program, set_uniforms

DEFAULT_BACKGROUND = ((0.80, 0.84, 0.89), (0.55, 0.59, 0.65))  # top, bottom
FLOOR_COLOR = (0.74, 0.77, 0.81)
LINE_COLOR = (0.42, 0.46, 0.52)
WIRE_COLOR = (0.12, 0.14, 0.18, 0.35)


class InteractiveRenderer:
    """Render (V, 3) vertices of one topology into (size, size, 3) uint8 frames.

    ``background`` is one RGB colour or a (top, bottom) gradient, floats in [0, 1].
    ``stats`` accumulates seconds spent drawing (until the GPU is done) and reading back.
    """

    def __init__(self, faces, framing: Framing, size: int = 512, samples: int = 4,
                 background=DEFAULT_BACKGROUND, lighting: Lighting | None = None):
        self.faces = check_faces(faces)
        self.framing = framing
        self.background = check_gradient(background)
        self.lighting = lighting or Lighting()
        self._num_vertices = int(self.faces.max()) + 1
        self._normals = VertexNormals(self.faces)
        self._uploaded: np.ndarray | None = None  # vertices now on the GPU, to skip re-uploads
        self.stats = {"draw": 0.0, "readback": 0.0, "frames": 0}
        with gl_session() as context:
            self.size = check_size(context, size)
            self.samples = check_samples(context, samples)
            shape = (self.size, self.size)
            self._mesh = build_program(context, "mesh")
            self._floor = build_program(context, "floor")
            self._backdrop = build_program(context, "background")
            set_uniforms(self._mesh, **self.lighting.uniforms())
            set_uniforms(self._backdrop, top_color=self.background[0],
                         bottom_color=self.background[1])
            nbytes = self._num_vertices * 12
            self._buffers = [context.buffer(reserve=nbytes, dynamic=True) for _ in range(3)]
            self._index_buffer = context.buffer(self.faces.tobytes())
            self._mesh_array = context.vertex_array(
                self._mesh, [(buffer, "3f", name) for buffer, name in
                             zip(self._buffers, ("in_position", "in_normal", "in_color"))],
                index_buffer=self._index_buffer, index_element_size=4)
            self._floor_array = context.vertex_array(self._floor, [])
            self._backdrop_array = context.vertex_array(self._backdrop, [])
            self._renderbuffers = [
                context.renderbuffer(shape, 4), context.depth_renderbuffer(shape)]
            self._target = context.framebuffer(*self._renderbuffers)
            self._multisampled = None
            if self.samples:
                multisampled = [context.renderbuffer(shape, 4, samples=self.samples),
                                context.depth_renderbuffer(shape, samples=self.samples)]
                self._renderbuffers += multisampled
                self._multisampled = context.framebuffer(*multisampled)

    def render(self, vertices, camera: OrbitCamera | None = None, colors=None,
               wireframe: bool = False, floor: bool = True) -> np.ndarray:
        """(V, 3) vertices -> (size, size, 3) uint8; ``colors`` (V, 3) floats in [0, 1]."""
        vertices = check_vertices(vertices, self.faces, batched=False)
        if len(vertices) != self._num_vertices:
            raise ViewerError(f"this renderer draws meshes of {self._num_vertices} vertices, "
                              f"got {len(vertices)}.")
        camera = camera or OrbitCamera()
        if not (camera.distance > 0 and math.isfinite(camera.distance)):
            raise ViewerError(f"camera distance must be a positive number, got {camera.distance}.")
        colors = None if colors is None else self._check_colors(colors)
        view = view_matrix(self.framing, camera.azimuth, camera.elevation, camera.distance,
                           camera.pan)
        projection = projection_matrix(self.framing, camera.distance)
        floor_y = float(vertices[:, 1].min())
        with gl_session() as context:
            started = time.perf_counter()
            if self._uploaded is None or not np.array_equal(self._uploaded, vertices):
                self._buffers[0].write(vertices)
                self._buffers[1].write(self._normals(vertices))
                self._uploaded = vertices.copy()
            if colors is not None:
                self._buffers[2].write(colors)
            framebuffer = self._multisampled or self._target
            framebuffer.use()
            context.viewport = (0, 0, self.size, self.size)
            framebuffer.depth_mask = True
            framebuffer.clear(depth=1.0)
            context.wireframe = False
            context.enable_only(moderngl.NOTHING)
            self._backdrop_array.render(moderngl.TRIANGLES, vertices=3)
            if floor and camera.elevation >= 0:
                self._draw_floor(context, vertices, floor_y, view, projection)
            self._draw_mesh(context, view, projection, floor_y, colors is not None, wireframe)
            if self._multisampled is not None:
                context.copy_framebuffer(self._target, self._multisampled)
            context.finish()
            drawn = time.perf_counter()
            data = self._target.read(components=3, alignment=1)
            self.stats["draw"] += drawn - started
            self.stats["readback"] += time.perf_counter() - drawn
            self.stats["frames"] += 1
        return np.frombuffer(data, dtype=np.uint8).reshape(self.size, self.size, 3)[::-1].copy()

    def _check_colors(self, colors) -> np.ndarray:
        colors = np.ascontiguousarray(as_numpy(colors), dtype=np.float32)
        if colors.shape != (self._num_vertices, 3) or not np.isfinite(colors).all():
            raise ViewerError(f"colors must be finite ({self._num_vertices}, 3) RGB floats in "
                              f"[0, 1], got shape {colors.shape}.")
        return colors

    def _draw_floor(self, context, vertices, floor_y, view, projection) -> None:
        low, high = vertices[:, [0, 2]].min(axis=0), vertices[:, [0, 2]].max(axis=0)
        center = np.array(self.framing.center)[[0, 2]]
        reach = 3.0 * self.framing.radius
        set_uniforms(
            self._floor, view=view, projection=projection, floor_y=floor_y,
            floor_rect=(*(center - reach), *(center + reach)),
            floor_center=tuple(center), floor_radius=reach,
            grid_step=10.0 ** round(math.log10(self.framing.radius / 8)),
            shadow_center=tuple((low + high) / 2),
            shadow_radii=tuple(np.maximum((high - low) / 2 * 1.1, 0.05 * self.framing.radius)),
            floor_color=FLOOR_COLOR, line_color=LINE_COLOR)
        context.enable_only(moderngl.BLEND)
        context.blend_func = moderngl.SRC_ALPHA, moderngl.ONE_MINUS_SRC_ALPHA
        self._floor_array.render(moderngl.TRIANGLE_STRIP, vertices=4)

    def _draw_mesh(self, context, view, projection, floor_y, use_colors, wireframe) -> None:
        framebuffer = self._multisampled or self._target
        set_uniforms(self._mesh, view=view, projection=projection, floor_y=floor_y,
                     up_view=tuple(view[:3, 1].tolist()), use_vertex_colors=use_colors,
                     contact_height=0.08 * self.framing.radius, wireframe=False, depth_bias=0.0,
                     wire_color=WIRE_COLOR)
        context.enable_only(moderngl.DEPTH_TEST | moderngl.CULL_FACE)
        self._mesh_array.render(moderngl.TRIANGLES)
        if wireframe:
            set_uniforms(self._mesh, wireframe=True, depth_bias=2e-4)
            context.enable_only(moderngl.DEPTH_TEST | moderngl.CULL_FACE | moderngl.BLEND)
            context.blend_func = moderngl.SRC_ALPHA, moderngl.ONE_MINUS_SRC_ALPHA
            context.wireframe = True
            framebuffer.depth_mask = False
            self._mesh_array.render(moderngl.TRIANGLES)
            context.wireframe = False
            framebuffer.depth_mask = True

    def release(self) -> None:
        """Free the GL objects; the renderer cannot be used afterwards."""
        with gl_session():
            for resource in (self._mesh_array, self._floor_array, self._backdrop_array,
                             self._multisampled, self._target, *self._renderbuffers,
                             *self._buffers, self._index_buffer, self._mesh, self._floor,
                             self._backdrop):
                if resource is not None:
                    resource.release()
            self._renderbuffers, self._buffers = [], []
            self._multisampled = self._target = self._index_buffer = None
