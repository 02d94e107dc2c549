"""The Gradio app: ``build_app()`` returns the Blocks, ``launch()`` serves it.

Modules: ``config`` (how it is served), ``catalog`` (entries on offer, by opaque id),
``runtime`` (entries resolved once), ``session`` (per-visitor state), ``view`` (shape to
page), ``text`` (what may be shown), ``scratch`` (per-session files), ``animation``,
``exports``, ``build``, ``layout`` (components), ``fronts`` (what events do, one per part of
the page), ``events`` (wiring and queueing), ``blocks`` (the app).
"""

from semantify.app.blocks import build_app, launch
from semantify.app.config import AppConfig

__all__ = ["AppConfig", "build_app", "launch"]
