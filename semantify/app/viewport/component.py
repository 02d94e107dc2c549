"""The drag-to-orbit viewer as a Gradio 6 ``gr.HTML`` component (works on a Space: no custom
component build). Its JavaScript (``orbit.js``) turns drags, wheel, pinch and keys into camera
requests that reach :meth:`FrameService.frame` through the component's server function.

Use::

    service = FrameService(encode=jpeg_data_url)
    view = orbit_view(service, elem_id="render")
    # an event handler that changes what is shown:
    service.show(view_id, Scene(renderer, vertices, material, framing))
    return gr.HTML(value=service.render(view_id), view=view_id)

``value`` is the frame to show (a data URL) and ``view`` the page's view id from
:meth:`FrameService.open`; ``view.expired(...)`` fires when the server forgot the view.
"""

from __future__ import annotations

import functools
from pathlib import Path

import gradio as gr

from semantify.app.viewport.service import FrameService
from viewer.camera import orbit_limits

HERE = Path(__file__).parent
BLANK = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"
TEMPLATE = (
    '<div class="orbit-stage" tabindex="0" role="img" aria-label="3D view: drag to orbit, '
    'wheel or pinch to zoom, right- or shift-drag to pan, double-click to reset, arrow keys '
    'to orbit"><img class="orbit-frame render" src="${value}" alt="the shape" '
    'draggable="false">'
    '<div class="orbit-hint">drag to orbit · wheel to zoom · right-drag to pan · '
    'double-click to reset</div></div>')


@functools.cache
def _asset(name: str) -> str:
    return (HERE / name).read_text(encoding="utf-8")


def orbit_view(service: FrameService, **options) -> gr.HTML:
    """A ``gr.HTML`` viewer whose frames come from ``service``; the page's camera keeps to
    the limits the server clamps cameras to (``limits``: :func:`viewer.camera.orbit_limits`)."""

    def frame(request):
        """The page's frame request (see FrameService.frame)."""
        return service.frame(request)

    return gr.HTML(value=BLANK, html_template=TEMPLATE, css_template=_asset("orbit.css"),
                   js_on_load=_asset("orbit.js"), server_functions=[frame], view="",
                   limits=orbit_limits(), apply_default_css=False, **options)
