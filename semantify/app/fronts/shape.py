"""The sliders: moves (the API's, and the page's when they come to rest), the filter, reset,
random shapes and set sliders made free again."""

from __future__ import annotations

import secrets

import gradio as gr

from semantify.app import view
from semantify.app.admission import CHOICE, VIEW
from semantify.app.fronts.base import Front, released, reports_errors
from semantify.app.runtime import MAIN_SLOTS
from semantify.app.session import Session
from semantify.app.slider_labels import ALL_REGIONS
from semantify.app.text import notices
from semantify.errors import SemantifyError


class ShapeFront(Front):
    """The slider column's events: the hot path of the app."""

    @released(VIEW)
    @reports_errors
    def move(self, slot: int, session: Session, value) -> dict:
        """One slider moved (the API's ``/move``; pages move sliders through the viewer and
        ``settle``): re-render. A value outside the range is clamped once; the record says
        which value the render used."""
        rt = self.page.runtime_of(session)
        index = rt.panel.index_of(slot)
        if index is None or value is None:
            return {self.ui.state: session}
        values = list(session.values)
        values[index] = float(value)
        set_names = view.set_after(session, rt, values)
        if set_names is not None and rt.slider_set.names[index] not in set_names:
            set_names = (*set_names, rt.slider_set.names[index])  # moved to where it was
        session, shape = view.with_values(session, rt, values, set_names=set_names)
        return self.page.shown(session, rt, shape.notes)

    def move_api(self, session: Session, slot, value) -> dict:
        """API twin of a slider move: ``slot`` indexes the page's slider pool."""
        try:
            slot = int(slot)
        except (TypeError, ValueError):
            slot = -1
        return self.move(slot, session, value)

    @released(VIEW)
    @reports_errors
    def settle(self, session: Session, event: gr.EventData) -> dict:
        """The page's sliders came to rest after a drag or keys (the viewer drew the frames
        itself): the session, numbers and record follow, without a frame."""
        from semantify.app.viewport.service import slider_pairs

        by_slot = slider_pairs((getattr(event, "_data", None) or {}).get("values"))
        if by_slot is None:
            raise SemantifyError("the slider values sent are not valid; move a slider again.")
        rt = self.page.runtime_of(session)
        values = rt.panel.placed(session.values, by_slot)
        session, shape = view.with_values(session, rt, values,
                                          set_names=view.set_after(session, rt, values))
        self.page.frames.follow(session.view, view.follow(session, rt))
        return {self.ui.state: session,
                self.ui.measures: rt.table(session.vertices, session.values, session.set_names),
                self.ui.record: view.record(session, rt), self.ui.info: notices(shape.notes),
                self.ui.heat_key: view.colour_key(session),
                **self.page.slider_values(session, rt)}

    @released(VIEW)
    @reports_errors
    def filter_sliders(self, session: Session, region, text) -> dict:
        """Show only the sliders of ``region`` whose label holds ``text``; the accordion of
        more sliders opens when some of them match."""
        rt = self.page.runtime_of(session)
        shown = rt.panel.shown(str(region or ""), str(text or "")[:60])
        updates = {self.ui.sliders[slot]: gr.Slider(visible=visible)
                   for slot, visible in shown.items()}
        filtering = region not in (None, "", ALL_REGIONS) or bool(str(text or "").strip())
        extra = [visible for slot, visible in shown.items() if slot >= MAIN_SLOTS]
        updates[self.ui.extras] = gr.Accordion(visible=any(extra) or not filtering and
                                               bool(extra), open=filtering and any(extra))
        return updates

    @released(CHOICE)
    @reports_errors
    def reset(self, session: Session) -> dict:
        rt = self.page.runtime_of(session)
        if rt.slider_set.body_model is not None:  # every slider free: the most likely person
            session, shape = view.with_values(session, rt, rt.slider_set.defaults, set_names=())
            return {**self.page.shown(session, rt, shape.notes),
                    **self.page.slider_values(session, rt)}
        return self.page.jump(session, rt, rt.slider_set.defaults)

    @released(CHOICE)
    @reports_errors
    def free_slider(self, session: Session, name) -> dict:
        """A set slider back to free (↺): it follows the most likely body again."""
        rt = self.page.runtime_of(session)
        slider_set = rt.slider_set
        if slider_set.body_model is None or name not in slider_set.names:
            return {self.ui.state: session, self.ui.free: gr.Dropdown(value=None)}
        kept = tuple(n for n in (session.set_names or slider_set.names) if n != name)
        session, shape = view.with_values(session, rt, session.values, set_names=kept)
        return {**self.page.shown(session, rt, shape.notes),
                **self.page.slider_values(session, rt),
                self.ui.heat_key: view.colour_key(session), self.ui.free: gr.Dropdown(value=None)}

    @released(CHOICE)
    @reports_errors
    def randomise(self, session: Session) -> dict:
        """A shape from the model's sampling prior, shown as this set's slider values."""
        rt = self.page.runtime_of(session)
        shape = rt.slider_set.random(secrets.randbelow(2**31))
        return self.page.jump(session, rt, shape.values, shape.notes)
