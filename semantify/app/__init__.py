"""The Gradio app: ``build_app()`` returns the Blocks, ``launch()`` serves it.

Modules: ``catalog`` (models and slider sets on offer), ``controls`` (sliders of an entry),
``session`` (per-user state), ``view`` (mesh, render, measurements), ``uploads`` (photo
checks), ``photos`` (photo to shape), ``animation``, ``exports``, ``layout`` (components),
``handlers`` (what events do), ``events`` (wiring and queueing), ``blocks`` (the app).
"""

from semantify.app.blocks import build_app, launch

__all__ = ["build_app", "launch"]
