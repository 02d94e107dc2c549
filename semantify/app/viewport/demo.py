"""A test page for the orbit viewer, built from the app's own parts: one entry (raw
``anny-body`` coefficients, the shipped metric slider set, or the Anny face) resolved by
:mod:`semantify.app.runtime` and shown through :mod:`semantify.app.view` (shapes, the
measurement table, slider drags followed by the view), with its main sliders, a pose picker,
skin or clay, a heatmap with its colour key and a turntable button.

``python -m semantify.app.viewport [--entry anny-body|metric|face] [--port P]`` serves it;
``bench/viewport.py`` and ``tests/test_viewport.py`` drive it in Chromium.
"""

from __future__ import annotations

import dataclasses
import operator
from pathlib import Path

import gradio as gr

from semantify.app import scratch, view
from semantify.app.admission import address_of
from semantify.app.catalog import Entry, label_of, raw_id, set_id
from semantify.app.frames import jpeg_data_url
from semantify.app.runtime import Runtime, load_set, runtime
from semantify.app.session import Session
from semantify.app.viewport.component import orbit_view
from semantify.app.viewport.service import FrameService, slider_pairs
from semantify.models.reference import ModelRef

ENTRIES = {"anny-body": ("anny-body", None), "metric": ("anny-body", "sliders/anny-body-metric"),
           "face": ("anny-face-shape", None)}
ROOT = Path(__file__).resolve().parents[3]


def entry(name: str) -> Entry:
    """The catalog entry of ``name`` (a key of :data:`ENTRIES`)."""
    model_id, folder = ENTRIES[name]
    if folder is None:
        return Entry(raw_id(model_id), f"{model_id} — raw coefficients", ModelRef(model_id))
    folder = ROOT / folder
    slider_set = load_set(folder)
    return Entry(set_id(folder), label_of(slider_set.name, slider_set), slider_set.model_ref,
                 folder, name=slider_set.name, words=bool(slider_set.word_names))


def build_demo(entry_name: str = "anny-body") -> gr.Blocks:
    """The test page for ``entry_name`` (a key of :data:`ENTRIES`)."""
    from semantify.poses import offered_poses

    rt: Runtime = runtime(entry(entry_name))
    service = FrameService(encode=jpeg_data_url)
    main = [(index, slot) for index, slot in rt.panel.slots.items() if slot < rt.panel.n_main]

    def table(session: Session) -> list[list]:
        return rt.table(session.vertices, session.values, session.set_names)

    def open_page(_: Session, request: gr.Request):
        token, address = scratch.new_token(), address_of(request)
        session = Session(token=token, address=address, view=service.open(token, address))
        session, frame = view.frame(view.opened(session, rt), rt, service)
        return session, frame, table(session), view.colour_key(session)

    def settle(session: Session, event: gr.EventData):
        """The sliders came to rest (the view drew the frames itself): update the rest."""
        by_slot = slider_pairs((getattr(event, "_data", None) or {}).get("values")) or {}

        def step(session: Session):
            values = rt.panel.placed(session.values, by_slot)
            session, _ = view.with_values(session, rt, values,
                                          set_names=view.set_after(session, rt, values))
            service.follow(session.view, view.follow(session, rt))
            return session, table(session), view.colour_key(session)
        return session.newest.run(session, step, operator.itemgetter(0))

    def choose(session: Session, pose: str, appearance: str, heat: bool):
        def step(session: Session):
            session = dataclasses.replace(session, pose=pose, appearance=appearance,
                                          heatmap=bool(heat))
            session, frame = view.frame(session, rt, service)
            return session, frame, view.colour_key(session)
        return session.newest.run(session, step, operator.itemgetter(0))

    def reopen(session: Session):
        session = dataclasses.replace(session, view=service.open(session.token,
                                                                 session.address))
        return view.frame(session, rt, service)

    def turntable(session: Session):
        from semantify.pictures.turntable import write_turntable

        return str(write_turntable(scratch.session_folder(session.token) / "turntable.mp4",
                                   rt.slider_set.model, session.coefficients, session.pose,
                                   session.appearance, size=384, frames=48))

    with gr.Blocks(title="Semantify viewer") as demo:
        state = gr.State(Session())
        with gr.Row():
            with gr.Column(scale=3, min_width=420):
                viewer = orbit_view(service, elem_id="orbit", sliders="#controls")
                key = gr.HTML(elem_id="heat-key")
            with gr.Column(scale=2, min_width=280):
                with gr.Row():
                    pose = gr.Dropdown([p.name for p in offered_poses(rt.slider_set.model)],
                                       value="rest", label="Pose", elem_id="pose")
                    appearance = gr.Radio(["skin", "clay"], value="skin", label="Look",
                                          elem_id="appearance")
                heat = gr.Checkbox(False, label="Heatmap of the last change", elem_id="heat")
                with gr.Column(elem_id="controls"):
                    values = rt.rounded(rt.slider_set.defaults)
                    for index, slot in main:
                        s = rt.slider_set.sliders[index]
                        gr.Slider(s.low, s.high, value=values[index], step=s.step,
                                  label=rt.panel.labels[index].text, elem_id=f"slider-{slot}",
                                  interactive=True)  # read by the view, not by an event
                measures = gr.Dataframe(headers=["measurement", "value", "unit", "target"],
                                        label="Measured in the rest pose", elem_id="measures",
                                        interactive=False)
                spin = gr.Button("Turntable (MP4)", elem_id="spin")
                video = gr.File(label="Turntable", elem_id="turntable")
        demo.load(open_page, [state], [state, viewer, measures, key])
        # A slider drag is drawn by the view (orbit.js), which reports the values at rest.
        viewer.settle(settle, state, [state, measures, key], show_progress="hidden",
                      trigger_mode="always_last")
        for control in (pose, appearance, heat):
            control.change(choose, [state, pose, appearance, heat], [state, viewer, key],
                           show_progress="hidden")
        viewer.expired(reopen, state, [state, viewer])
        spin.click(turntable, state, video)
    demo.frame_service = service  # for benches and tests
    return demo
