"""Build the Gradio Blocks of the app (cheap: nothing heavy is loaded until a page opens)."""

from __future__ import annotations

import os
import threading

from semantify import limits
from semantify.app.config import AppConfig

TITLE = "Semantify: control 3D bodies, faces and animals with words"
GRADIO_CACHE = (3600, 3600)  # Gradio's own upload/output cache: checked hourly, files > 1 h go


def build_app(config: AppConfig | None = None):
    """The ``gr.Blocks`` app for ``config`` (default: shipped and built sets, public on a
    Hugging Face Space)."""
    import gradio as gr

    from semantify.app import events, frames
    from semantify.app.catalog import Catalog
    from semantify.app.choices import refuse_without_echo
    from semantify.app.first_build import FirstBuilds
    from semantify.app.fronts import make_fronts
    from semantify.app.layout import build_ui
    from semantify.app.viewport import FrameService
    from semantify.paths import sessions_dir
    from semantify.recipes import MIN_SAMPLES, recipes_for_model

    config = config or AppConfig.create()
    if not os.environ.get("GRADIO_TEMP_DIR"):  # read by Gradio when the Blocks are made
        from semantify.app.guards import gradio_cache

        os.environ["GRADIO_TEMP_DIR"] = gradio_cache()
    catalog = Catalog(config)
    first_builds = FirstBuilds(catalog, config)
    first_builds.restore()  # builds a stopped server left, and SEMANTIFY_BUILD_ON_START
    if config.public:  # serving before working: page loads first when visitors flood it
        from semantify.app.priority import WORK

        WORK.lower(limits.WORK_NICENESS)
    if config.public and catalog.first(""):  # a Space: prepare the model before anyone asks
        from semantify.app.runtime import warm_up

        threading.Thread(target=warm_up, args=(catalog.first(""),), daemon=True).start()
    models = [(e.label.split(" — ")[0], e.model_ref.id) for e in catalog.entries()
              if e.is_raw and recipes_for_model(e.model_ref.id)]  # the Build tab's models
    service = FrameService(frames.jpeg_data_url)  # every page's viewer: cameras and frames
    with gr.Blocks(title=TITLE, delete_cache=GRADIO_CACHE) as demo:
        ui = build_ui(TITLE, models, MIN_SAMPLES, service, public=config.public)
        events.wire(demo, ui, make_fronts(ui, catalog, config, service, first_builds))
    refuse_without_echo()  # unknown dropdown and radio values: one line, not echoed
    demo.queue(default_concurrency_limit=1, max_size=limits.MAX_QUEUE)
    demo.frame_service, demo.catalog = service, catalog  # for benches and tests
    demo.first_builds = first_builds  # tests swap its queue's build command
    demo.allowed_paths = [str(sessions_dir())]  # exports and animations: the app's own files
    return demo


VIEW_THREADS = 1  # torch threads per request: slider moves run two at a time on small CPUs


def server_options(public: bool = False) -> dict:
    """``demo.launch`` options every server of the app takes: the per-file upload cap, the
    byte budgets of :class:`semantify.app.guards.UploadBudget`, answers that name no server
    folder (:class:`semantify.app.guards.HideCacheFolder`), and the page and static files
    answered from memory (:class:`semantify.app.page_cache.PageCache`); ``public``: each
    address's budget of new sessions (:class:`semantify.app.new_sessions.NewSessions`)."""
    from starlette.middleware import Middleware

    from semantify.app.guards import HideCacheFolder, UploadBudget
    from semantify.app.new_sessions import NewSessions
    from semantify.app.page_cache import PageCache

    middleware = [Middleware(PageCache), Middleware(HideCacheFolder), Middleware(UploadBudget)]
    sessions = {}
    if public:
        middleware.append(Middleware(NewSessions))
        sessions = dict(state_session_capacity=limits.MAX_SESSIONS)
    return dict(max_file_size=limits.MAX_UPLOAD, app_kwargs={"middleware": middleware},
                **sessions)


def launch(demo, port: int | None = None, share: bool = False, **options):
    """Serve ``demo`` with :func:`server_options`."""
    import torch

    torch.set_num_threads(VIEW_THREADS)
    return demo.launch(server_port=port, share=share,
                       **server_options(public=demo.catalog.config.public), **options)
