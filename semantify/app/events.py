"""Wire the page's events to the handlers, with the queueing that keeps the viewer live.

Slider moves and camera moves share the ``view`` concurrency group and keep only the latest
pending event (``trigger_mode="always_last"``); heavy jobs (photos, text, exports) run in their
own group and training jobs (new words, builds) in another, one at a time per server, so none
of them starves slider moves.
"""

from __future__ import annotations

import functools

from semantify.app.handlers import Handlers
from semantify.app.layout import Ui

VIEW_CONCURRENCY = 2
HEAVY_CONCURRENCY = 1


def wire(demo, ui: Ui, handlers: Handlers) -> None:
    """Attach every listener (call inside the ``gr.Blocks`` context)."""
    shown = [ui.state, ui.viewer, ui.measures, ui.record, ui.info]
    tabs = [ui.photo_note, ui.words_note, ui.fit_crop, ui.prompt_go, ui.add_words, ui.uploads]
    layout = ui.sliders + [ui.extras, ui.ramp_slider] + tabs
    jumps = shown + ui.sliders
    # Every event of a concurrency group states the same limit (the lowest one would win).
    view = dict(concurrency_id="view", concurrency_limit=VIEW_CONCURRENCY)
    live = dict(trigger_mode="always_last", show_progress="hidden", **view)
    heavy = dict(concurrency_id="heavy", concurrency_limit=HEAVY_CONCURRENCY)
    train = dict(concurrency_id="train", concurrency_limit=1)

    demo.load(handlers.start, [ui.state], shown + layout + [ui.picker], api_name="start")
    ui.picker.input(handlers.open, [ui.state, ui.picker], shown + layout, api_name="open",
                    **view)
    ui.everyone.input(handlers.set_everyone, [ui.state, ui.everyone], [ui.state, ui.picker],
                      api_visibility="private", queue=False)
    for slot, slider in enumerate(ui.sliders):
        slider.input(functools.partial(handlers.move, slot), [ui.state, slider],
                     shown + [slider], api_visibility="private", **live)
    ui.api_move.click(handlers.move_api, [ui.state, ui.api_index, ui.api_value], jumps,
                      api_name="move", **live)
    camera = [ui.state, ui.azimuth, ui.elevation, ui.zoom]
    for control in (ui.azimuth, ui.elevation, ui.zoom):
        control.input(handlers.orbit, camera, [ui.state, ui.viewer, ui.info],
                      api_visibility="private", **live)
    ui.reset_view.click(handlers.reset_view, [ui.state],
                        [ui.state, ui.viewer, ui.azimuth, ui.elevation, ui.zoom, ui.info],
                        api_name="reset_view", **view)
    ui.heatmap.input(handlers.set_heatmap, [ui.state, ui.heatmap],
                     [ui.state, ui.viewer, ui.info], api_name="heatmap", **view)
    ui.show_record.input(handlers.show_record, [ui.show_record], [ui.record], queue=False,
                         api_visibility="private")
    ui.reset.click(handlers.reset, [ui.state], jumps, api_name="reset", **view)
    ui.randomise.click(handlers.randomise, [ui.state], jumps, api_name="random", **view)
    ui.ramp.click(handlers.ramp, [ui.state, ui.ramp_slider], [ui.ramp_view, ui.info],
                  api_name="ramp", **heavy)
    photo_outputs = jumps + [ui.uploads, ui.gallery, ui.crop, ui.clip_view]
    ui.uploads.upload(handlers.upload_photos, [ui.state, ui.uploads], photo_outputs,
                      api_name="photos", **heavy)
    ui.crop.select(handlers.select_crop, [ui.state], [ui.state, ui.info],
                   api_visibility="private", queue=False)
    ui.fit_crop.click(handlers.fit_crop, [ui.state], jumps + [ui.clip_view],
                      api_name="fit_crop", **heavy)
    ui.prompt_go.click(handlers.prompt, [ui.state, ui.prompt, ui.method], jumps,
                       api_name="text", **heavy)
    ui.prompt.submit(handlers.prompt, [ui.state, ui.prompt, ui.method], jumps,
                     api_visibility="private", **heavy)
    ui.add_words.click(handlers.add_words, [ui.state, ui.words], shown + layout + [ui.picker],
                       api_name="add_words", **train)
    ui.build.click(handlers.build, [ui.state, ui.build_model, ui.build_clip,
                                    ui.build_checkpoint, ui.build_samples],
                   shown + layout + [ui.picker, ui.build_log], api_name="build", **train)
    ui.export.click(handlers.export, [ui.state], [ui.files, ui.preview, ui.info],
                    api_name="export", **heavy)
    ui.params.upload(handlers.load_params, [ui.state, ui.params],
                     shown + layout + [ui.picker], api_name="load_params", **heavy)
