"""Builds: the first build's row (offered while a model has no word set), the *Build sliders*
tab, and the poll that shows their state and lists finished sets on every open page."""

from __future__ import annotations

import dataclasses

import gradio as gr

from semantify import limits
from semantify.app.admission import HEAVY, JobLimit
from semantify.app.catalog import Catalog
from semantify.app.config import AppConfig
from semantify.app.fronts.base import Front, Page, in_turn, released, reports_errors
from semantify.app.layout import Ui
from semantify.app.session import Session
from semantify.app.text import notices, shown
from semantify.errors import SemantifyError


class FirstBuildRow:
    """The first-build row above the sliders. ``builds``:
    :class:`semantify.app.first_build.FirstBuilds`, or None (a server that does not build)."""

    def __init__(self, ui: Ui, catalog: Catalog, config: AppConfig, builds=None):
        self.ui, self.catalog, self.config, self.builds = ui, catalog, config, builds

    def offer(self, session: Session, model_id: str) -> dict:
        """The first-build row for ``model_id``: shown while the model has no word set, while
        its first build is under way, and, on a page that saw it under way, with its outcome
        (until the new set is picked). A failure is shown only to the pages that saw the build
        under way; a new visitor gets the plain offer, or nothing once a word set exists."""
        ui, builds = self.ui, self.builds
        hidden = {ui.offer_row: gr.Row(visible=False)}
        if builds is None or builds.settings(model_id) is None:
            return hidden
        from semantify.app.first_build import status_text

        state = builds.state(model_id)
        watched = session.build_watched == model_id
        if state is not None and state.state == "failed" and not watched:
            state = None  # another page's failure: this visitor may try afresh
        busy = state is not None and state.state in ("queued", "running")
        finished = state is not None and state.state == "finished"
        failed = state is not None and state.state == "failed"
        on_words = bool(session.entry) and bool(self.catalog.get(session.entry).words)
        listed = builds.has_word_set(model_id, session.token, not self.config.public)
        if listed and not busy and (on_words or not watched):
            return hidden
        name = shown(builds.settings(model_id).recipe.title.split(":")[0])
        note = (f"**{name} now has word sliders.**" if finished else
                f"**The build of {name}'s word sliders failed.**" if failed else
                f"**{name} has no word sliders yet.** Sliders named by words, photo fitting "
                "and text need a word set.")
        return {ui.offer_row: gr.Row(visible=True), ui.offer_note: note,
                ui.offer: gr.Button(value=builds.offer(model_id), interactive=state is None),
                ui.offer_status: status_text(state)}

    def watch(self, session: Session, model_id: str) -> Session:
        """``session``, noting that its page saw ``model_id``'s first build under way."""
        state = self.builds.state(model_id)
        if state is None or state.state not in ("queued", "running") or \
                session.build_watched == model_id:
            return session
        return dataclasses.replace(session, build_watched=model_id)


class BuildFront(Front):
    """The first build's button, the *Build sliders* tab and the poll; builds are training
    jobs, counted by ``jobs``."""

    def __init__(self, page: Page, row: FirstBuildRow, jobs: JobLimit):
        super().__init__(page)
        self.row, self.builds, self.jobs = row, row.builds, jobs

    @in_turn
    @reports_errors
    def first_build(self, session: Session) -> dict:
        """Queue the first build of the model on show (shared: once per server)."""
        model_id = self.page.catalog.get(session.entry).model_ref.id
        self.builds.submit(model_id)
        # The page that asked follows the build whatever its state now: one that cannot
        # start (offline, no CLIP weights) has already failed, and this visitor must see why.
        session = dataclasses.replace(session, build_watched=model_id)
        return {self.ui.state: session, **self.row.offer(session, model_id)}

    @in_turn
    def poll(self, session: Session) -> dict:
        """Every few seconds: the build's state beside the button, and the picker when a
        first build has finished on this server (on every open page, without a reload)."""
        if self.builds is None or not session.entry:
            return {self.ui.state: session}
        try:
            model_id = self.page.catalog.get(session.entry).model_ref.id
            session = self.row.watch(session, model_id)
            updates = {self.ui.state: session, **self.row.offer(session, model_id)}
        except SemantifyError:
            return {self.ui.state: session}
        if session.custom_build:
            session = self.custom_build_state(session, updates)
        version = self.builds.version
        if version != session.builds_seen:
            session = dataclasses.replace(session, builds_seen=version)
            updates.update({self.ui.state: session, self.ui.picker: self.page.picker(session)})
        return updates

    def custom_build_state(self, session: Session, updates: dict) -> Session:
        """Put the state of the session's *Build sliders* build in ``updates``; once it is over,
        say so in the info line too and stop following it (the session it returns)."""
        from semantify.app.first_build import CUSTOM_BUILD_REMEDY, status_text

        state = self.builds.queue.state(session.custom_build)
        updates[self.ui.build_log] = status_text(state, CUSTOM_BUILD_REMEDY)
        if state.state in ("finished", "failed"):
            session = dataclasses.replace(session, custom_build=None)
            updates[self.ui.state] = session
            updates[self.ui.info] = notices([
                f"{state.title} is ready: pick it in the list above." if state.state ==
                "finished" else f"the build of {state.title} failed (see the Build sliders "
                "tab)."])
        return session

    @released(HEAVY, hold=True)
    @reports_errors
    def build(self, session: Session, model_id, clip_choice, checkpoint, samples,
              quick) -> dict:
        """Queue a build of ``model_id``'s recipe with the tab's options; its state shows in
        the tab, and the set joins this session's list when done. Queuing is quick, so it
        holds the visitor's other events: a poll that ran beside it answered from the state
        before it and dropped the build it follows (the tab then never said "Failed")."""
        from semantify.app.first_build import CUSTOM_BUILD_REMEDY, status_text
        from semantify.app.layout import CLIP_CHOICES

        if self.builds is None:
            raise SemantifyError("this server does not build slider sets.")
        if self.page.catalog.raw(model_id) is None:
            raise SemantifyError("pick a model from the list.")
        choice = CLIP_CHOICES.index(clip_choice) if clip_choice in CLIP_CHOICES else 0
        samples = str(samples if samples is not None else "").strip()
        if samples and not (samples.isascii() and samples.isdigit()
                            and int(samples) <= limits.MAX_APP_BUILD_SAMPLES):
            raise SemantifyError(f"samples must be a whole number up to "
                                 f"{limits.MAX_APP_BUILD_SAMPLES}, or empty for the recipe's.")
        samples = int(samples) if samples else None
        self.jobs.take(session.address)
        settings = self.builds.custom(
            model_id, ("tiny-random" if choice == 2 else None),
            str(checkpoint or "") if choice == 1 else None, samples, bool(quick))
        state = self.builds.submit_custom(settings, self.page.catalog.owner_of(session.token),
                                          session.address)
        session = dataclasses.replace(session, custom_build=str(settings.default_out()))
        return {self.ui.state: session,
                self.ui.build_log: status_text(state, CUSTOM_BUILD_REMEDY),
                self.ui.info: notices([f"{settings.title}: queued; its progress shows in "
                                       "the Build sliders tab."])}
