"""The drag-to-orbit viewer: a ``gr.HTML`` component with its own JavaScript
(:func:`orbit_view`), and the server side that draws its frames per session
(:class:`FrameService`). ``python -m semantify.app.viewport`` serves a test page."""

from semantify.app.viewport.component import orbit_view
from semantify.app.viewport.service import FrameService, Scene

__all__ = ["FrameService", "Scene", "orbit_view"]
