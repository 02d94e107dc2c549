"""Wire the page's events to the fronts (:mod:`semantify.app.fronts`), with the queueing that
keeps the viewer live.

Slider moves share the ``view`` concurrency group and keep only the latest pending event
(``trigger_mode="always_last"``). In the browser, a slider drag's frames and every camera move
go through the viewer itself (``semantify.app.viewport``), and the viewer's ``settle`` event
(sliders at rest) brings the session and its numbers up to date. Heavy jobs (photos, text,
exports, turntables) run in their own group and training jobs (new words, builds) in another,
one at a time per server, so none of them starves slider moves.
"""

from __future__ import annotations

from semantify.app.admission import CHOICE, HEAVY, VIEW
from semantify.app.fronts import Fronts
from semantify.app.layout import Ui

VIEW_CONCURRENCY = 2
HEAVY_CONCURRENCY = 1


def wire(demo, ui: Ui, fronts: Fronts) -> None:
    """Attach every front's listeners (call inside the ``gr.Blocks`` context)."""
    entries, shape, look, photos = fronts.entries, fronts.shape, fronts.look, fronts.photos
    words, builds, files = fronts.words, fronts.builds, fronts.files
    shown = [ui.state, ui.viewer, ui.measures, ui.record, ui.info]
    tabs = [ui.photo_note, ui.words_note, ui.fit_crop, ui.prompt_go, ui.add_words, ui.uploads]
    offer = [ui.offer_row, ui.offer_note, ui.offer, ui.offer_status]
    filters = [ui.filters, ui.slider_group, ui.slider_filter]
    layout = ui.sliders + [ui.extras, ui.ramp_slider, ui.pose] + tabs + offer + [ui.heat_key] \
        + filters + [ui.free]
    jumps = shown + ui.sliders + [ui.heat_key]  # the key last: API output indices stay put
    drawn = [ui.state, ui.viewer, ui.heat_key, ui.record]
    # Every event of a concurrency group states the same limit (the lowest one would win).
    # Each queued event is admitted first (semantify.app.admission): a session, network
    # address or server over its places for that kind has it refused before the queue.
    view = dict(concurrency_id="view", concurrency_limit=VIEW_CONCURRENCY,
                validator=fronts.gates.validator(VIEW))
    live = dict(trigger_mode="always_last", show_progress="hidden", **view)
    # Choices share the view workers but hold their own places: a tick made mid-drag lands.
    choice = dict(view, validator=fronts.gates.validator(CHOICE))
    heavy = dict(concurrency_id="heavy", concurrency_limit=HEAVY_CONCURRENCY,
                 validator=fronts.gates.validator(HEAVY))
    train = dict(concurrency_id="train", concurrency_limit=1,
                 validator=fronts.gates.validator(HEAVY))

    # A page load never waits in a queue that visitors can fill.
    # The browser's visitor key goes in and (fresh when it sent none or junk) comes back last.
    demo.load(entries.start, [ui.state, ui.visitor], shown + layout + [ui.picker, ui.visitor],
              api_name="start", queue=False).then(
        entries.announce, [ui.state], [ui.viewer], api_visibility="private", queue=False)
    ui.picker.input(entries.open, [ui.state, ui.picker], shown + layout, api_name="open",
                    **choice)
    ui.hub_load.click(entries.load_hub, [ui.state, ui.hub_name], shown + layout + [ui.picker],
                      api_name="load_hub", **heavy)
    ui.everyone.input(entries.set_everyone, [ui.state, ui.everyone], [ui.state, ui.picker],
                      api_visibility="private", queue=False)
    # A slider drag is drawn by the viewer; when the sliders rest it reports their values.
    ui.viewer.settle(shape.settle, [ui.state],
                     [ui.state, ui.measures, ui.record, ui.info, ui.heat_key] + ui.sliders,
                     api_visibility="private", **live)
    ui.api_move.click(shape.move_api, [ui.state, ui.api_index, ui.api_value],
                      shown + [ui.heat_key],
                      api_name="move", **live)
    # Queued, latest only: the answers to "s", "sm", ... never arrive after the last one's.
    for control in (ui.slider_group, ui.slider_filter):
        control.input(shape.filter_sliders, [ui.state, ui.slider_group, ui.slider_filter],
                      ui.sliders + [ui.extras, ui.info], api_visibility="private", **live)
    chosen = [ui.state, ui.pose, ui.appearance, ui.heatmap]
    for control in (ui.pose, ui.appearance):
        control.input(look.set_look, chosen, drawn + [ui.info], api_visibility="private",
                      **choice)
    ui.heatmap.input(look.set_heatmap, [ui.state, ui.heatmap], drawn + [ui.info],
                     api_name="heatmap", **choice)
    ui.viewer.expired(look.reopen_view, [ui.state], drawn + [ui.info],
                      api_visibility="private", **choice)
    ui.turntable.click(look.turntable, [ui.state], [ui.turntable_file, ui.info],
                       api_name="turntable", **heavy)
    ui.show_record.input(look.show_record, [ui.show_record], [ui.record], queue=False,
                         api_visibility="private")
    ui.reset.click(shape.reset, [ui.state], jumps, api_name="reset", **choice)
    ui.free.input(shape.free_slider, [ui.state, ui.free], jumps + [ui.free],
                  api_name="free", **choice)
    ui.randomise.click(shape.randomise, [ui.state], jumps, api_name="random", **choice)
    ui.ramp.click(look.ramp, [ui.state, ui.ramp_slider], [ui.ramp_view, ui.info],
                  api_name="ramp", **heavy)
    photo_outputs = jumps + [ui.uploads, ui.gallery, ui.crop, ui.clip_view]
    ui.uploads.upload(photos.upload_photos, [ui.state, ui.uploads], photo_outputs,
                      api_name="photos", **heavy)
    ui.crop.select(photos.select_crop, [ui.state], [ui.state, ui.info],
                   api_visibility="private", queue=False)
    ui.fit_crop.click(photos.fit_crop, [ui.state], jumps + [ui.clip_view],
                      api_name="fit_crop", **heavy)
    ui.prompt_go.click(words.prompt, [ui.state, ui.prompt, ui.method], jumps,
                       api_name="text", **heavy)
    ui.prompt.submit(words.prompt, [ui.state, ui.prompt, ui.method], jumps,
                     api_visibility="private", **heavy)
    ui.add_words.click(words.add_words, [ui.state, ui.words], shown + layout + [ui.picker],
                       api_name="add_words", **train)
    ui.build.click(builds.build, [ui.state, ui.build_model, ui.build_clip,
                                    ui.build_checkpoint, ui.build_samples, ui.build_quick],
                   [ui.state, ui.build_log, ui.info], api_name="build", **heavy)
    ui.offer.click(builds.first_build, [ui.state], [ui.state, ui.info] + offer,
                   api_name="first_build", queue=False)
    ui.poll.tick(builds.poll, [ui.state], [ui.state, ui.picker, ui.build_log, ui.info] + offer,
                 api_visibility="private", queue=False, show_progress="hidden")
    ui.export.click(files.export, [ui.state, ui.export_posed],
                    [ui.files, ui.preview, ui.info], api_name="export", **heavy)
    ui.params.upload(files.load_params, [ui.state, ui.params],
                     shown + layout + [ui.picker], api_name="load_params", **heavy)
