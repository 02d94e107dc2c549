"""The words tab: shape from a free-text prompt, and new word sliders trained on the set."""

from __future__ import annotations

import time

import gradio as gr

from semantify.app import view
from semantify.app.admission import HEAVY, JobLimit
from semantify.app.fronts.base import Front, Page, released, reports_errors
from semantify.app.runtime import runtime
from semantify.app.session import Session
from semantify.errors import SemantifyError


class WordsFront(Front):
    """Text to shape, and new words (a training job, counted by ``jobs``)."""

    def __init__(self, page: Page, jobs: JobLimit):
        super().__init__(page)
        self.jobs = jobs

    @released(HEAVY)
    @reports_errors
    def prompt(self, session: Session, text: str, method: str) -> dict:
        """Sliders jump to the shape a free-text prompt describes. Enter in the prompt box
        works before the page load's answer (a textbox cannot be switched off), when the
        answer would replace the shape: it says so instead."""
        if not session.token:
            raise SemantifyError("the page is still loading; press Enter again in a moment.")
        rt = self.page.runtime_of(session)
        shape = rt.slider_set.from_text(text, method, start=dict(zip(rt.slider_set.names,
                                                                     session.values)))
        return self.page.jump(session, rt, shape.values, shape.notes)

    @released(HEAVY)
    @reports_errors
    def add_words(self, session: Session, text: str, progress=gr.Progress()) -> dict:
        """Train the set's sliders plus new words and open the new set."""
        from lightning_modules.words import add_words
        from semantify.paths import built_sets_dir

        page = self.page
        rt = page.runtime_of(session)
        self.jobs.take(session.address)
        base = rt.entry.folder.name if rt.entry.folder else rt.slider_set.name
        out = built_sets_dir() / f"{base}+words-{time.strftime('%Y%m%d-%H%M%S')}"
        new, lines = add_words(rt.slider_set, text, out,
                               lambda fraction, desc: progress(fraction, desc=desc))
        entry = page.catalog.add(out, owner=session.token)
        rt = runtime(entry)
        session = view.opened(session, rt)
        saved = out.name if page.config.public else str(out)  # a public server names no folder
        lines = [*lines, f"new sliders saved as {saved}."]
        return {**page.opened(session, rt, lines), self.ui.picker: page.picker(session)}
