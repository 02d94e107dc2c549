"""What every front shares: errors turned into notices, places in the queue given back, the
validators that admit events, and :class:`Page`, the updates every tab sends (the shape on
show, the sliders' layout, the picker).

User errors (``SemantifyError``) never escape an event: they become a notice in the info box
(and a toast), escaped and without server paths, and the session is left as it was. Anything
else is logged on the server and shown as one generic line.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging

import gradio as gr

from semantify.app import view
from semantify.app.admission import CHOICE, HEAVY, VIEW, Gate, Kind, address_of, validator
from semantify.app.catalog import Catalog
from semantify.app.config import AppConfig
from semantify.app.layout import Ui
from semantify.app.priority import WORK
from semantify.app.runtime import Runtime, runtime
from semantify.app.session import Session
from semantify.app.slider_labels import ALL_REGIONS
from semantify.app.text import for_visitors, notices, shown
from semantify.app.viewport import FrameService
from semantify.errors import SemantifyError

log = logging.getLogger("semantify.app")
NO_WORDS = ("This slider set has no word sliders (it is measurements only), so photos and text "
            "cannot drive it. Pick a set with words, or build one in the *Build sliders* tab.")


def reports_errors(method):
    """Turn an error raised by ``method`` into a notice; nothing else changes."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except SemantifyError as error:
            message = for_visitors(str(error))
            if message != str(error):
                log.warning("semantify app: %s", error)
        except Exception:  # noqa: BLE001 - a visitor must never see a traceback
            log.exception("semantify app: %s failed", method.__name__)
            message = "something went wrong on the server; try again, or reload the page."
        gr.Warning(shown(message))
        return {self.ui.info: notices([message])}
    return wrapper


def in_turn(method, hold: bool = True):
    """Run ``method`` (an event whose inputs include the session) from the visitor's newest
    state, in turn with its other events (:meth:`semantify.app.session.Newest.run`)."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        slot = next((i for i, a in enumerate(args) if isinstance(a, Session)), None)
        if slot is None:
            return method(self, *args, **kwargs)

        def step(session):
            return method(self, *args[:slot], session, *args[slot + 1:], **kwargs)

        def state_of(answer):
            return answer.get(self.ui.state) if isinstance(answer, dict) else None
        return args[slot].newest.run(args[slot], step, state_of, hold)
    return wrapper


def released(kind: Kind, hold: bool | None = None):
    """Run the event in turn (:func:`in_turn`; heavy jobs without holding the visitor's other
    events back, unless ``hold``), on the app's work threads (:data:`semantify.app.priority.
    WORK`: below page serving in public mode; heavy jobs lower still, below frames and moves),
    and give the session's place of ``kind`` back when it (admitted by
    :meth:`Gates.validator`) finishes."""
    def decorate(method):
        turned = in_turn(method, hold=kind is not HEAVY if hold is None else hold)
        run = WORK.run_heavy if kind is HEAVY else WORK.run

        @functools.wraps(method)
        def wrapper(self, *args):
            session = next((a for a in args if isinstance(a, Session)), None)
            drawing = self.page.frames.heavy_turns() if kind is HEAVY else \
                contextlib.nullcontext()  # a heavy job draws in turn with the views' frames
            try:
                with drawing:
                    return run(turned, self, *args)
            finally:
                if session is not None:
                    session.throttle.release(kind)
        return wrapper
    return decorate


class Gates:
    """The app's places per kind of event (one per server)."""

    def __init__(self):
        self._gates = {kind.name: Gate(kind) for kind in (VIEW, CHOICE, HEAVY)}

    def validator(self, kind: Kind):
        """The validator of an event of ``kind`` (its inputs start with the session): a
        session, address or server over its places has the event refused before it is
        queued."""
        gate = self._gates[kind.name]

        def admit(session, request) -> bool:
            return isinstance(session, Session) and session.throttle.admit(
                gate, address_of(request))
        return validator(admit, kind)


class Page:
    """The updates every front sends: the shape on show and its numbers, the sliders laid out
    for an entry, the picker. ``row`` gives the first-build row
    (:class:`semantify.app.fronts.builds.FirstBuildRow`)."""

    def __init__(self, ui: Ui, catalog: Catalog, config: AppConfig, frames: FrameService,
                 row):
        self.ui, self.catalog, self.config, self.frames, self.row = ui, catalog, config, \
            frames, row

    def runtime_of(self, session: Session) -> Runtime:
        return runtime(self.catalog.get(session.entry))

    def shown(self, session: Session, rt: Runtime, lines=()) -> dict:
        """Updates after the shape or the view changed: state, render, numbers, notices."""
        ui = self.ui
        session, frame = view.frame(session, rt, self.frames)  # may give it a new view
        return {ui.state: session, ui.viewer: frame,
                ui.measures: rt.table(session.vertices, session.values, session.set_names),
                ui.record: view.record(session, rt),
                ui.info: notices(lines), ui.heat_key: view.colour_key(session)}

    def drawn(self, session: Session, rt: Runtime) -> dict:
        """Updates after only the look changed (pose, skin, heatmap): state, render, key."""
        ui = self.ui
        session, frame = view.frame(session, rt, self.frames)
        return {ui.state: session, ui.viewer: frame, ui.heat_key: view.colour_key(session),
                ui.record: view.record(session, rt)}

    def slider_values(self, session: Session, rt: Runtime) -> dict:
        """Updates moving the page's sliders to the session's values."""
        shown_values = rt.rounded(session.values)  # to each slider's step, as the shape is made
        return {self.ui.sliders[slot]: shown_values[index]
                for index, slot in rt.panel.slots.items()}

    def jump(self, session: Session, rt: Runtime, values, lines=(), set_names=None) -> dict:
        """Sliders jump to ``values`` (photo, text, reset, random, params); ``set_names``: the
        sliders set (None: all)."""
        session, shape = view.with_values(session, rt, values, set_names=set_names)
        return {**self.shown(session, rt, [*lines, *shape.notes]),
                **self.slider_values(session, rt)}

    def layout(self, session: Session, rt: Runtime, before: tuple[int, ...] = ()) -> dict:
        """Updates laying the page out for the session's entry; ``before``: the slots the
        page showed until now. Only those that stay empty are hidden: Gradio builds a
        component for every update (hiding all 144 took 14 ms of a page load's 148)."""
        from semantify.poses import offered_poses

        ui, slider_set = self.ui, rt.slider_set
        updates = {ui.sliders[slot]: gr.Slider(visible=False)
                   for slot in set(before) - set(rt.panel.slots.values())}
        labels, values = rt.panel.labels, rt.rounded(session.values)  # to each slider's step
        for index, slot in rt.panel.slots.items():
            s = slider_set.sliders[index]
            updates[ui.sliders[slot]] = gr.Slider(
                minimum=s.low, maximum=s.high, value=values[index], step=s.step,
                label=labels[index].text, info=rt.receipts.get(s.name, ""), visible=True)
        n_extra = len(rt.panel.slots) - rt.panel.n_main
        updates[ui.extras] = gr.Accordion(label=f"More sliders ({n_extra})",
                                          visible=n_extra > 0, open=False)
        regions = rt.panel.regions
        updates[ui.filters] = gr.Row(visible=len(regions) > 1)
        updates[ui.slider_group] = gr.Dropdown(choices=[ALL_REGIONS, *regions],
                                               value=ALL_REGIONS)
        updates[ui.slider_filter] = ""
        free = slider_set.body_model is not None
        updates[ui.free] = gr.Dropdown(
            choices=[(s.label, s.name) for s in slider_set.sliders] if free else [], value=None,
            visible=free)
        updates[ui.ramp_slider] = gr.Dropdown(
            choices=[(label.text, i) for i, label in enumerate(labels)], value=0)
        words = bool(slider_set.word_names)
        for note in (ui.photo_note, ui.words_note):
            updates[note] = "" if words else NO_WORDS
        for button in (ui.fit_crop, ui.prompt_go, ui.add_words, ui.uploads):
            updates[button] = gr.update(interactive=words)
        updates[ui.pose] = gr.Dropdown(choices=[(p.label, p.name) for p in offered_poses(
            slider_set.model)], value=session.pose)
        return {**updates, **self.row.offer(session, rt.entry.model_ref.id)}

    def opened(self, session: Session, rt: Runtime, lines=()) -> dict:
        """Updates showing a newly opened entry: the shape, the layout, notices about it. A
        page that opens while the entry's first build is under way keeps its outcome in view,
        as one that saw it start does."""
        if self.row.builds is not None:
            session = self.row.watch(session, rt.entry.model_ref.id)
        lines = list(lines)
        if rt.panel.hidden:
            lines.append(f"{rt.panel.hidden} more sliders keep their values (the page shows "
                         f"{len(rt.panel.slots)} at most).")
        clip = rt.slider_set.clip
        if clip is not None and not clip.is_semantic:
            lines.append("this slider set uses random CLIP weights: not semantic, for testing "
                         "only.")
        before, session = session.slots, dataclasses.replace(
            session, slots=tuple(sorted(rt.panel.slots.values())))
        return {**self.shown(session, rt, lines), **self.layout(session, rt, before)}

    def picker(self, session: Session) -> gr.Dropdown:
        """The session's choices: on a private server every set built here (one person's
        machine), on a public one the visitor's own builds unless they ask for everyone's."""
        everyone = session.everyone or not self.config.public
        return gr.Dropdown(choices=self.catalog.choices(session.token, everyone),
                           value=session.entry)


class Front:
    """One part of the page: its events, over the shared :class:`Page`."""

    def __init__(self, page: Page):
        self.page, self.ui = page, page.ui
