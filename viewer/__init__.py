"""Headless OpenGL rendering: meshes and cameras in, pixels out (no CLIP, no models)."""

from viewer.batch import BatchRenderer
from viewer.camera import NAMED_VIEWS, Framing, OrbitCamera, View, parse_views
from viewer.context import gl_context, gl_lock, gl_session, gl_turns
from viewer.errors import ViewerError
from viewer.images import save_png, side_by_side
from viewer.interactive import QUALITIES, InteractiveRenderer, Quality, Surface
from viewer.lighting import Lighting
from viewer.material import CLAY, Material, UVLayout, skin, vertex_albedo

__all__ = ["CLAY", "NAMED_VIEWS", "QUALITIES", "BatchRenderer", "Framing", "InteractiveRenderer",
           "Lighting", "Material", "OrbitCamera", "Quality", "UVLayout", "View", "ViewerError",
           "gl_context", "gl_lock", "gl_session", "gl_turns", "parse_views", "save_png",
           "side_by_side", "Surface", "skin", "vertex_albedo"]
