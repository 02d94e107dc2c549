"""The page: components only, no logic. :func:`build_ui` returns them as a :class:`Ui`."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import gradio as gr

from semantify.app import visitors
from semantify.app.runtime import EXTRA_SLOTS, MAIN_SLOTS
from semantify.app.session import Session
from semantify.app.slider_labels import ALL_REGIONS
from semantify.app.viewport import FrameService, orbit_view
from semantify.sets.inference import METHODS

STATIC = Path(__file__).with_name("static")
CROP_HTML = ('<div class="crop-wrap"><img class="crop-photo" src="${value}" alt="" '
             'draggable="false"><div class="crop-box"></div></div>')
CROP_CSS = (".crop-wrap { position: relative; display: inline-block; touch-action: none; "
            "user-select: none; } .crop-photo { display: block; max-width: 100%; "
            "max-height: 360px; cursor: crosshair; } .crop-photo[src=''] { display: none; } "
            ".crop-box { position: absolute; "
            "display: none; border: 2px dashed #e11d48; background: rgba(225,29,72,0.12); "
            "pointer-events: none; }")
CLIP_CHOICES = ("the recipe's CLIP (downloaded once)", "CLIP from a local checkpoint",
                "tiny-random (NOT SEMANTIC, for testing)")


@dataclasses.dataclass
class Ui:
    """Every component the fronts read or write."""

    state: gr.State
    picker: gr.Dropdown
    everyone: gr.Checkbox
    hub_name: gr.Textbox
    hub_load: gr.Button
    info: gr.Markdown
    offer_row: gr.Row
    offer_note: gr.Markdown
    offer: gr.Button
    offer_status: gr.Markdown
    poll: gr.Timer
    filters: gr.Row
    slider_group: gr.Dropdown
    slider_filter: gr.Textbox
    sliders: list[gr.Slider]
    extras: gr.Accordion
    viewer: gr.HTML
    pose: gr.Dropdown
    appearance: gr.Radio
    heatmap: gr.Checkbox
    heat_key: gr.HTML
    turntable: gr.Button
    turntable_file: gr.File
    show_record: gr.Checkbox
    measures: gr.Dataframe
    record: gr.JSON
    reset: gr.Button
    randomise: gr.Button
    ramp_slider: gr.Dropdown
    ramp: gr.Button
    ramp_view: gr.Image
    photo_note: gr.Markdown
    uploads: gr.File
    gallery: gr.Gallery
    crop: gr.HTML
    fit_crop: gr.Button
    clip_view: gr.Image
    words_note: gr.Markdown
    words: gr.Textbox
    add_words: gr.Button
    prompt: gr.Textbox
    method: gr.Radio
    prompt_go: gr.Button
    build_model: gr.Dropdown
    build_clip: gr.Radio
    build_checkpoint: gr.Textbox
    build_samples: gr.Textbox
    build_quick: gr.Checkbox
    build: gr.Button
    build_log: gr.Markdown
    export: gr.Button
    export_posed: gr.Checkbox
    files: gr.File
    preview: gr.Model3D
    params: gr.File
    api_index: gr.Number
    api_value: gr.Number
    api_move: gr.Button
    free: gr.Dropdown  # a set slider back to free (sets with a body model)
    visitor: gr.BrowserState  # the visitor key, kept by the browser (semantify/app/visitors.py)


def _slider(slot: int) -> gr.Slider:
    return gr.Slider(0.0, 1.0, value=0.0, label=f"slider {slot}", visible=False,
                     elem_id=f"slider-{slot}", interactive=True)


def build_ui(title: str, models: list[tuple[str, str]], min_samples: int,
             frames: FrameService, public: bool = False) -> Ui:
    """Lay out the page (inside a ``gr.Blocks`` context) under ``title``; ``models`` are
    (label, id) pairs; the viewer draws ``frames``; ``public``: strangers visit (each sees
    their own builds).

    Wide screens: sliders | the viewer (it stays in view while the page scrolls) | the
    measurements above the rarer tools in compact tabs. Phones: one column, the viewer first
    and kept at the top (``static/page.css``)."""
    gr.HTML(f"<style>{(STATIC / 'page.css').read_text()}</style>", padding=False,
            elem_id="page-style", container=False)
    state = gr.State(Session())
    visitor = gr.BrowserState(None, storage_key=visitors.STORAGE_KEY,
                              secret=visitors.STORAGE_SECRET)
    with gr.Row(elem_id="top-row"):
        gr.Markdown(f"## {title}", elem_id="title")
        with gr.Column(scale=3, min_width=280):
            picker = gr.Dropdown(label="Model and sliders", choices=[], interactive=True,
                                 allow_custom_value=False, elem_id="picker",
                                 show_label=False, container=False)
            everyone = gr.Checkbox(label="Show sets other visitors built", value=False,
                                   visible=public, elem_id="everyone", container=False)
        info = gr.Markdown(elem_id="info")  # a fixed box: notices never move the page
    # The first build: one line above the sliders and the viewer, never over them.
    with gr.Row(visible=False, elem_id="first-build") as offer_row:
        offer_note = gr.Markdown(elem_id="first-build-note")
        offer = gr.Button("Build word sliders", variant="primary", size="sm",
                          elem_id="first-build-button")
        offer_status = gr.Markdown(elem_id="first-build-status")
    poll = gr.Timer(2.0)
    with gr.Row(elem_id="main-row"):
        with gr.Column(scale=2, min_width=260, elem_id="sliders"):
            with gr.Row(elem_id="slider-filters", visible=False) as filters:
                slider_group = gr.Dropdown(label="Region", choices=[ALL_REGIONS],
                                           value=ALL_REGIONS, elem_id="slider-group",
                                           min_width=120)
                slider_filter = gr.Textbox(label="Filter", placeholder="e.g. smile",
                                           max_length=60, elem_id="slider-filter",
                                           min_width=120)
            sliders = [_slider(i) for i in range(MAIN_SLOTS)]
            with gr.Accordion("More sliders", open=False, visible=False) as extras:
                sliders += [_slider(MAIN_SLOTS + i) for i in range(EXTRA_SLOTS)]
            free = gr.Dropdown(label="↺ Back to free: the slider follows the body again",
                               choices=[], value=None, visible=False, elem_id="free-slider")
            with gr.Row():
                reset = gr.Button("Reset", size="sm", min_width=80)
                randomise = gr.Button("Random", size="sm", min_width=80)
            with gr.Row(elem_id="ramp-row"):
                ramp_slider = gr.Dropdown(label="Animate slider", choices=[], min_width=140)
                ramp = gr.Button("Animate (GIF)", size="sm", min_width=100)
            ramp_view = gr.Image(label="Ramp low -> high -> low", type="filepath",
                                 interactive=False, visible=False)
        with gr.Column(scale=4, min_width=300, elem_id="view-column"):
            viewer = orbit_view(frames, elem_id="render", sliders="#sliders")
            with gr.Row(elem_id="look-row"):
                pose = gr.Dropdown(label="Pose", choices=["rest"], value="rest",
                                   elem_id="pose", min_width=140)
                appearance = gr.Radio(["skin", "clay"], value="skin", label="Look",
                                      elem_id="appearance", min_width=120)
                heatmap = gr.Checkbox(label="Heatmap of the last change", value=False,
                                      elem_id="heatmap", min_width=120)
            heat_key = gr.HTML("", elem_id="heat-key", padding=False)
            with gr.Row(elem_id="view-tools"):
                turntable = gr.Button("Turntable (MP4)", size="sm", elem_id="turntable",
                                      min_width=120)
                show_record = gr.Checkbox(label="Show raw coefficients", value=False,
                                          min_width=120)
            turntable_file = gr.File(label="Turntable", visible=False, interactive=False)
        with gr.Column(scale=3, min_width=300, elem_id="side-column"):
            measures = gr.Dataframe(headers=["measurement", "value", "unit", "target"],
                                    label="Measurements (in the rest pose)", interactive=False,
                                    elem_id="measures", wrap=True,
                                    column_widths=["30%", "17%", "13%", "40%"])
            record = gr.JSON(label="Sliders and coefficients", visible=False)
            with gr.Tab("Photo to shape"):
                photo_note = gr.Markdown()
                # Off until the page load's answer (layout) turns them on for a set with words:
                # a photo dropped before the session exists would be lost with its state.
                uploads = gr.File(label="Photos (one or more; a new upload replaces them)",
                                  file_count="multiple", type="filepath", elem_id="uploads",
                                  file_types=["image"], height=120, interactive=False)
                gallery = gr.Gallery(label="Photos used", height=140, columns=4)
                crop = gr.HTML("", html_template=CROP_HTML, css_template=CROP_CSS,
                               js_on_load=(STATIC / "crop.js").read_text(), elem_id="crop",
                               label="Drag on the first photo to crop it")
                fit_crop = gr.Button("Fit to the cropped photo", elem_id="fit-crop",
                                     interactive=False)
                clip_view = gr.Image(label="What CLIP sees", type="numpy", format="jpeg",
                                     interactive=False, height=224, elem_id="clip-view")
            with gr.Tab("Words"):
                words_note = gr.Markdown()
                words = gr.Textbox(label="New descriptor words (comma separated, at most 8)",
                                   placeholder="curvy, lanky, broad-shouldered")
                add_words = gr.Button("Add sliders for these words", interactive=False)
                prompt = gr.Textbox(label="Describe a shape",
                                    placeholder="a tall, heavy-set man with long legs")
                method = gr.Radio(list(METHODS), value=METHODS[0], label="Method (retrieval: "
                                  "the closest dataset samples; mapper: the text scored like "
                                  "a photo)")
                prompt_go = gr.Button("Shape from text", interactive=False)
            with gr.Tab("Build sliders"):
                gr.Markdown("Build a word slider set from a model's recipe (generate, select "
                            "words, train, evaluate), in the server's build queue; it appears "
                            "in the list above when done.")
                build_model = gr.Dropdown(label="Model", choices=models,
                                          value=models[0][1] if models else None)
                build_clip = gr.Radio(list(CLIP_CHOICES), value=CLIP_CHOICES[0], label="CLIP")
                build_checkpoint = gr.Textbox(label="CLIP checkpoint path (for a local "
                                              "checkpoint)", max_length=1000)
                # Text, not a number box: an empty number box sends 0, refused as too few.
                build_samples = gr.Textbox(label="Samples (empty: the recipe's)",
                                           placeholder=f"the recipe's (at least {min_samples})",
                                           max_length=12, elem_id="build-samples")
                build_quick = gr.Checkbox(label="Quick (fewer samples and epochs)", value=False)
                build = gr.Button("Build sliders", elem_id="build")
                build_log = gr.Markdown(elem_id="build-log")
            with gr.Tab("Export"):
                export = gr.Button("Export OBJ, PLY, GLB, rigged GLB and params")
                export_posed = gr.Checkbox(label="Export the posed mesh (rest pose "
                                           "otherwise)", value=False)
                files = gr.File(label="Downloads", file_count="multiple", interactive=False)
                preview = gr.Model3D(label="GLB preview")
                params = gr.File(label="Load params (params.json)", file_types=[".json"],
                                 type="filepath")
            with gr.Tab("Hub"):
                hub_name = gr.Textbox(label="Load a slider set from the Hugging Face Hub",
                                      placeholder="hf://OWNER/NAME[@REVISION] or "
                                      "https://huggingface.co/OWNER/NAME", max_length=200,
                                      elem_id="hub-name")
                hub_load = gr.Button("Load", size="sm", elem_id="hub-load")
    with gr.Row(visible=False):
        api_index = gr.Number(precision=0)
        api_value = gr.Number()
        api_move = gr.Button()
    return Ui(state, picker, everyone, hub_name, hub_load, info, offer_row, offer_note, offer,
              offer_status, poll, filters, slider_group, slider_filter, sliders, extras,
              viewer, pose, appearance, heatmap, heat_key, turntable, turntable_file,
              show_record, measures, record, reset, randomise, ramp_slider, ramp, ramp_view,
              photo_note, uploads, gallery, crop, fit_crop, clip_view, words_note, words,
              add_words, prompt, method, prompt_go, build_model, build_clip, build_checkpoint,
              build_samples, build_quick, build, build_log, export, export_posed, files,
              preview, params, api_index, api_value, api_move, free, visitor)
