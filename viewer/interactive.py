"""Interactive rendering for the app: one mesh, an orbit camera, studio look, MSAA.

Each frame draws a background gradient, a floor grid with a soft blob shadow, the mesh with
smooth normals in a :class:`viewer.material.Material` (clay or skin, optionally textured;
optionally per-vertex colours) and an optional wireframe overlay, into a multisampled
framebuffer that is resolved into a plain one, read back and flipped.

Two qualities: ``full`` (the renderer's size, MSAA) for a still frame, and ``draft`` (half the
size, no MSAA, a quarter of the triangles (:mod:`viewer.lod`): several times cheaper) for frames
sent while the user drags or slides.
"""

from __future__ import annotations

import dataclasses
import math
import time

import moderngl
import numpy as np

from viewer import unlocked
from viewer.camera import Framing, OrbitCamera, projection_matrix, view_matrix
from viewer.colors import check_gradient
from viewer.context import check_samples, check_size, gl_session, unlocked_calls
from viewer.errors import ViewerError
from viewer.lighting import Lighting
from viewer.lod import coarser_faces
from viewer.material import CLAY, Material, UVLayout
from viewer.mesh import VertexNormals, as_numpy, check_faces, check_vertices
from viewer.programs import build_program, set_uniforms

DEFAULT_BACKGROUND = ((0.80, 0.84, 0.89), (0.55, 0.59, 0.65))  # top, bottom
FLOOR_COLOR = (0.74, 0.77, 0.81)
LINE_COLOR = (0.42, 0.46, 0.52)
WIRE_COLOR = (0.12, 0.14, 0.18, 0.35)
MAX_TEXTURES = 4  # textures kept on the GPU (one per material in use)


@dataclasses.dataclass(frozen=True)
class Quality:
    """A frame quality: the share of the renderer's size drawn, whether MSAA is on, and
    whether the mesh's coarser triangles are drawn (:func:`viewer.lod.coarser_faces`)."""

    name: str
    scale: float
    multisample: bool
    coarse: bool = False


QUALITIES = {"full": Quality("full", 1.0, True),
             "draft": Quality("draft", 0.5, False, coarse=True)}
MAX_TARGETS = 6  # framebuffers kept, a quality at a size each (pages ask for 3 sizes)


class _Target:
    """A framebuffer to read back, with its multisampled twin when MSAA is on."""

    def __init__(self, context: moderngl.Context, size: int, samples: int):
        shape = (size, size)
        self.size = size
        self.buffers = [context.renderbuffer(shape, 4), context.depth_renderbuffer(shape)]
        self.plain = context.framebuffer(*self.buffers)
        self.multisampled = None
        if samples:
            extra = [context.renderbuffer(shape, 4, samples=samples),
                     context.depth_renderbuffer(shape, samples=samples)]
            self.buffers += extra
            self.multisampled = context.framebuffer(*extra)

    @property
    def drawn(self) -> moderngl.Framebuffer:
        return self.multisampled or self.plain

    def release(self) -> None:
        for resource in (self.multisampled, self.plain, *self.buffers):
            if resource is not None:
                resource.release()


@dataclasses.dataclass(frozen=True, eq=False)
class Surface:
    """A mesh ready to draw (:meth:`InteractiveRenderer.surface`): its checked (V, 3) float32
    ``vertices``, and ``positions`` and ``normals`` in the renderer's draw order. Made apart
    from drawing, so that a server can shape the next mesh while another frame is drawn."""

    vertices: np.ndarray
    positions: np.ndarray
    normals: np.ndarray


class InteractiveRenderer:
    """Render (V, 3) vertices of one topology into (size, size, 3) uint8 frames.

    ``background`` is one RGB colour or a (top, bottom) gradient, floats in [0, 1]. A
    ``uv_layout`` (:class:`viewer.material.UVLayout` of the same faces) lets textured
    materials draw their texture. ``stats`` accumulates seconds spent drawing (until the GPU is
    done) and reading back.
    """

    def __init__(self, faces, framing: Framing, size: int = 512, samples: int = 4,
                 background=DEFAULT_BACKGROUND, lighting: Lighting | None = None,
                 uv_layout: UVLayout | None = None):
        self.faces = check_faces(faces)
        self.framing = framing
        self.background = check_gradient(background)
        self.lighting = lighting or Lighting()
        self._num_vertices = int(self.faces.max()) + 1
        self._normals = VertexNormals(self.faces)
        self.uv_layout = uv_layout
        if uv_layout is not None and (uv_layout.faces.shape != self.faces.shape
                                      or not np.array_equal(uv_layout.source[uv_layout.faces],
                                                            self.faces)):
            raise ViewerError("uv_layout does not describe these faces; build it with "
                              "UVLayout.from_corners(faces, ...) of the same mesh.")
        self._source = None if uv_layout is None else uv_layout.source
        gl_vertices = self._num_vertices if uv_layout is None else len(uv_layout.source)
        self._uploaded: Surface | None = None  # the mesh now on the GPU, to skip re-uploads
        self._coarse_array: moderngl.VertexArray | None = None  # drafts' triangles, made once
        self._coarse_index: moderngl.Buffer | None = None
        self._textures: dict[int, tuple[Material, moderngl.Texture]] = {}
        self.stats = {"draw": 0.0, "readback": 0.0, "frames": 0}
        with gl_session() as context:
            self.size = check_size(context, size)
            self.samples = check_samples(context, samples)
            self._mesh = build_program(context, "mesh")
            self._floor = build_program(context, "floor")
            self._backdrop = build_program(context, "background")
            set_uniforms(self._mesh, **self.lighting.uniforms(), albedo_map=0)
            set_uniforms(self._backdrop, top_color=self.background[0],
                         bottom_color=self.background[1])
            nbytes = gl_vertices * 12
            self._buffers = [context.buffer(reserve=nbytes, dynamic=True) for _ in range(3)]
            uv = np.zeros((gl_vertices, 2), np.float32) if uv_layout is None else uv_layout.uv
            self._buffers.append(context.buffer(np.ascontiguousarray(uv, np.float32).tobytes()))
            indices = self.faces if uv_layout is None else uv_layout.faces
            self._index_buffer = context.buffer(np.ascontiguousarray(indices, np.uint32))
            self._mesh_array = self._mesh_vertex_array(context, self._index_buffer)
            self._floor_array = context.vertex_array(self._floor, [])
            self._backdrop_array = context.vertex_array(self._backdrop, [])
            self._targets = {("full", self.size): _Target(context, self.size, self.samples)}

    def surface(self, vertices) -> Surface:
        """(V, 3) vertices as a :class:`Surface` for :meth:`render` (its normals computed)."""
        vertices = self._checked(vertices).copy()  # its own: the caller may change theirs
        vertices.flags.writeable = False
        positions, normals = vertices, self._normals(vertices)
        if self._source is not None:  # one copy per (vertex, texture coordinate) pair
            positions, normals = positions[self._source], normals[self._source]
        return Surface(vertices, np.ascontiguousarray(positions), np.ascontiguousarray(normals))

    def _checked(self, vertices) -> np.ndarray:
        vertices = check_vertices(vertices, self.faces, batched=False)
        if len(vertices) != self._num_vertices:
            raise ViewerError(f"this renderer draws meshes of {self._num_vertices} vertices, "
                              f"got {len(vertices)}.")
        return vertices

    def render(self, vertices, camera: OrbitCamera | None = None, colors=None,
               wireframe: bool = False, floor: bool = True, material: Material = CLAY,
               quality: str = "full", framing: Framing | None = None,
               size: int | None = None) -> np.ndarray:
        """(V, 3) vertices, or their :class:`Surface`, -> (S, S, 3) uint8, S the quality's
        share of ``size`` (None: the renderer's size; ``draft``: half). The framebuffers of
        the last MAX_TARGETS sizes drawn are kept.

        ``colors`` (V, 3) floats in [0, 1] replace the material's colour. The camera is
        clamped (:meth:`OrbitCamera.clamped`): NaN or huge values never fail a frame.
        ``framing`` replaces the renderer's own for this frame (a posed body's framing).
        """
        surface = vertices if isinstance(vertices, Surface) else None
        vertices = surface.vertices if surface is not None else self._checked(vertices)
        if quality not in QUALITIES:
            raise ViewerError(f"unknown quality {quality!r}; use one of "
                              f"{', '.join(QUALITIES)}.")
        if not isinstance(material, Material):
            raise ViewerError(f"material must be a viewer.Material, got {type(material)}.")
        camera = (camera or OrbitCamera()).clamped()
        colors = None if colors is None else self._check_colors(colors)
        framing = framing or self.framing
        view = view_matrix(framing, camera.azimuth, camera.elevation, camera.distance,
                           camera.pan)
        projection = projection_matrix(framing, camera.distance)
        floor_y = float(vertices[:, 1].min())
        with gl_session() as context:
            started = time.perf_counter()
            side = self.size if size is None else check_size(context, size, "frame size")
            target = self._target(context, QUALITIES[quality], side)
            self._upload(surface or vertices, colors)
            texture = self._texture(context, material)
            framebuffer = target.drawn
            framebuffer.use()
            context.viewport = (0, 0, target.size, target.size)
            framebuffer.depth_mask = True
            framebuffer.clear(depth=1.0)
            context.wireframe = False
            context.enable_only(moderngl.NOTHING)
            self._backdrop_array.render(moderngl.TRIANGLES, vertices=3)
            if floor and camera.elevation >= 0:
                self._draw_floor(context, framing, vertices, floor_y, view, projection)
            if texture is not None:
                texture.use(location=0)
            set_uniforms(self._mesh, **material.uniforms(),
                         use_texture=texture is not None)
            array = self._coarse(context) if QUALITIES[quality].coarse else self._mesh_array
            self._draw_mesh(context, framebuffer, array, framing, view, projection, floor_y,
                            colors is not None, wireframe)
            image = self._finish(context, target, framebuffer, started)
        return image[::-1].copy()

    def _mesh_vertex_array(self, context, index_buffer) -> moderngl.VertexArray:
        """The mesh's vertex buffers drawn through ``index_buffer``'s triangles."""
        return context.vertex_array(
            self._mesh, [(buffer, layout, name) for buffer, layout, name in
                         zip(self._buffers, ("3f", "3f", "3f", "2f"),
                             ("in_position", "in_normal", "in_color", "in_uv"))
                         if name in self._mesh],
            index_buffer=index_buffer, index_element_size=4)

    def _coarse(self, context) -> moderngl.VertexArray:
        """The drafts' coarser triangles over the same vertex buffers, decimated from the
        first mesh drawn (any shape of the topology will do: they follow it)."""
        if self._coarse_array is None:
            indices = self.faces if self.uv_layout is None else self.uv_layout.faces
            coarse = coarser_faces(self._uploaded.positions, indices)
            self._coarse_index = context.buffer(np.ascontiguousarray(coarse, np.uint32))
            self._coarse_array = self._mesh_vertex_array(context, self._coarse_index)
        return self._coarse_array

    def _finish(self, context, target: _Target, framebuffer, started: float) -> np.ndarray:
        """Resolve, draw and read back ``target``: (S, S, 3) uint8, bottom row first. Where
        it can, without holding the interpreter's lock (see :mod:`viewer.unlocked`)."""
        calls, size = unlocked_calls(), target.size
        unlocked.finish(context, calls, target.multisampled, target.plain, size, size)
        drawn = time.perf_counter()
        image = unlocked.read(calls, target.plain, size, size, rebind=framebuffer)
        self.stats["draw"] += drawn - started
        self.stats["readback"] += time.perf_counter() - drawn
        self.stats["frames"] += 1
        return image

    def _target(self, context, quality: Quality, side: int) -> _Target:
        key = (quality.name, side)
        target = self._targets.pop(key, None)
        if target is None:
            size = max(16, round(side * quality.scale))
            samples = self.samples if quality.multisample else 0
            target = _Target(context, size, samples)
            while len(self._targets) >= MAX_TARGETS:  # the least recently drawn goes
                self._targets.pop(next(iter(self._targets))).release()
        self._targets[key] = target  # last: the most recently drawn
        return target

    def _upload(self, mesh: np.ndarray | Surface, colors: np.ndarray | None) -> None:
        """Send ``mesh`` (checked vertices or a Surface) unless it is what was sent last."""
        vertices = mesh.vertices if isinstance(mesh, Surface) else mesh
        sent = None if self._uploaded is None else self._uploaded.vertices
        if sent is None or not (sent is vertices or np.array_equal(sent, vertices)):
            surface = mesh if isinstance(mesh, Surface) else self.surface(vertices)
            self._buffers[0].write(surface.positions)
            self._buffers[1].write(surface.normals)
            self._uploaded = surface  # its arrays are read-only: never changed under us
        if colors is not None:
            if self._source is not None:
                colors = colors[self._source]
            self._buffers[2].write(np.ascontiguousarray(colors))

    def _texture(self, context, material: Material) -> moderngl.Texture | None:
        """The GPU copy of ``material``'s texture (None without one, or without UVs)."""
        if material.texture is None or self.uv_layout is None:
            return None
        key = id(material)
        if key not in self._textures:
            while len(self._textures) >= MAX_TEXTURES:
                _, old = self._textures.pop(next(iter(self._textures)))
                old.release()
            image = np.ascontiguousarray(np.asarray(material.texture)[::-1])  # row 0: v = 0
            texture = context.texture(image.shape[1::-1], image.shape[2], image.tobytes())
            texture.build_mipmaps()
            texture.filter = moderngl.LINEAR_MIPMAP_LINEAR, moderngl.LINEAR
            self._textures[key] = (material, texture)
        return self._textures[key][1]

    def _check_colors(self, colors) -> np.ndarray:
        colors = np.ascontiguousarray(as_numpy(colors), dtype=np.float32)
        if colors.shape != (self._num_vertices, 3) or not np.isfinite(colors).all():
            raise ViewerError(f"colors must be finite ({self._num_vertices}, 3) RGB floats in "
                              f"[0, 1], got shape {colors.shape}.")
        return colors

    def _draw_floor(self, context, framing, vertices, floor_y, view, projection) -> None:
        low, high = vertices[:, [0, 2]].min(axis=0), vertices[:, [0, 2]].max(axis=0)
        center = np.array(framing.center)[[0, 2]]
        reach = 3.0 * framing.radius
        set_uniforms(
            self._floor, view=view, projection=projection, floor_y=floor_y,
            floor_rect=(*(center - reach), *(center + reach)),
            floor_center=tuple(center), floor_radius=reach,
            grid_step=10.0 ** round(math.log10(framing.radius / 8)),
            shadow_center=tuple((low + high) / 2),
            shadow_radii=tuple(np.maximum((high - low) / 2 * 1.1, 0.05 * framing.radius)),
            floor_color=FLOOR_COLOR, line_color=LINE_COLOR)
        context.enable_only(moderngl.BLEND)
        context.blend_func = moderngl.SRC_ALPHA, moderngl.ONE_MINUS_SRC_ALPHA
        self._floor_array.render(moderngl.TRIANGLE_STRIP, vertices=4)

    def _draw_mesh(self, context, framebuffer, array, framing, view, projection, floor_y,
                   use_colors, wireframe) -> None:
        set_uniforms(self._mesh, view=view, projection=projection, floor_y=floor_y,
                     up_view=tuple(view[:3, 1].tolist()), use_vertex_colors=use_colors,
                     contact_height=0.08 * framing.radius, wireframe=False, depth_bias=0.0,
                     wire_color=WIRE_COLOR)
        context.enable_only(moderngl.DEPTH_TEST | moderngl.CULL_FACE)
        unlocked.draw(unlocked_calls(), array)
        if wireframe:
            set_uniforms(self._mesh, wireframe=True, depth_bias=2e-4)
            context.enable_only(moderngl.DEPTH_TEST | moderngl.CULL_FACE | moderngl.BLEND)
            context.blend_func = moderngl.SRC_ALPHA, moderngl.ONE_MINUS_SRC_ALPHA
            context.wireframe = True
            framebuffer.depth_mask = False
            array.render(moderngl.TRIANGLES)
            context.wireframe = False
            framebuffer.depth_mask = True

    def release(self) -> None:
        """Free the GL objects; the renderer cannot be used afterwards."""
        with gl_session():
            for target in self._targets.values():
                target.release()
            for _, texture in self._textures.values():
                texture.release()
            for resource in (self._mesh_array, self._coarse_array, self._floor_array,
                             self._backdrop_array, *self._buffers, self._index_buffer,
                             self._coarse_index, self._mesh, self._floor, self._backdrop):
                if resource is not None:
                    resource.release()
            self._targets, self._textures, self._buffers = {}, {}, []
            self._index_buffer = self._coarse_index = self._coarse_array = None
