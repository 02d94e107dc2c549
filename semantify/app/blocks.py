"""Build the Gradio Blocks of the app (cheap: nothing heavy is loaded until a page opens)."""

from __future__ import annotations

from collections.abc import Sequence

MAX_FILE_SIZE = "20mb"
TITLE = "Semantify: control 3D bodies, faces and animals with words"


def build_app(slider_dirs: Sequence[str] = ()):
    """The ``gr.Blocks`` app; ``slider_dirs`` are extra slider set folders to offer."""
    import gradio as gr

    from semantify.app import catalog, events
    from semantify.app.handlers import Handlers
    from semantify.app.layout import build_ui

    models = [(f"{name} ({model_id})", model_id) for model_id, name in catalog.available_models()]
    with gr.Blocks(title=TITLE) as demo:
        gr.Markdown(f"## {TITLE}")
        ui = build_ui(models)
        events.wire(demo, ui, Handlers(ui, slider_dirs))
    demo.queue(default_concurrency_limit=1)
    return demo


VIEW_THREADS = 1  # torch threads per request: slider moves run two at a time on small CPUs


def launch(demo, port: int | None = None, share: bool = False, **options):
    """Serve ``demo``; uploads above MAX_FILE_SIZE are refused by the server."""
    import torch

    torch.set_num_threads(VIEW_THREADS)
    return demo.launch(server_port=port, share=share, max_file_size=MAX_FILE_SIZE, **options)
