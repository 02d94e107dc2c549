"""The page load and the picker: which model or slider set is on show (listed here, or
fetched from the Hub)."""

from __future__ import annotations

import dataclasses
import logging

import gradio as gr

from semantify.app import scratch, view, visitors
from semantify.app.admission import CHOICE, HEAVY, address_of
from semantify.app.fronts.base import Front, in_turn, released, reports_errors
from semantify.app.runtime import is_resolved, runtime
from semantify.app.session import Session

log = logging.getLogger("semantify.app")
PREPARING = "Preparing the model (the first start only takes about a minute)"


class EntryFront(Front):
    """Page load, the picker, Hub sets, and whether others' builds are listed."""

    @in_turn
    @reports_errors
    def start(self, session: Session, request: gr.Request, visitor=None,
              progress=gr.Progress()) -> dict:
        """Page load: a new session token, for the browser's visitor key ``visitor`` (a fresh
        one, sent back to be kept, if it sent none or junk); open the first entry (slider
        sets first)."""
        page = self.page
        token, address = scratch.new_token(), address_of(request)
        key = visitors.checked(visitor)
        if key.junk:  # never echoed: it is whatever a client chose
            log.info("semantify app: a page sent a malformed visitor key; it gets a new one")
        page.catalog.visitors.claim(token, key.key)
        view_id = page.frames.open(token, address)  # told to the page by ``announce``
        session = dataclasses.replace(session, token=token, address=address, view=view_id,
                                      announced=view_id)
        first = page.catalog.first(session.token)
        if first is None:
            return {self.ui.state: session, self.ui.visitor: key.key,
                    self.ui.info: "no model is available here."}
        if not is_resolved(first):
            progress(0.1, desc=PREPARING)
        rt = runtime(first)
        session = view.opened(session, rt)
        return {**page.opened(session, rt, page.catalog.notices),
                self.ui.picker: page.picker(session), self.ui.visitor: key.key}

    def announce(self, session: Session) -> dict:
        """Tell the page its view id (after ``start``, whose outputs stay plain for API
        clients)."""
        return {self.ui.viewer: gr.HTML(view=session.view)}

    @released(CHOICE)
    @reports_errors
    def open(self, session: Session, entry_id) -> dict:
        if not entry_id:
            return {self.ui.state: session}
        rt = runtime(self.page.catalog.get(entry_id, session.token, session.everyone))
        return self.page.opened(view.opened(session, rt), rt)

    @released(HEAVY)
    @reports_errors
    def load_hub(self, session: Session, name) -> dict:
        """Fetch ``hf://OWNER/NAME[@REV]`` through the Hub cache (JSON and weights only, size
        capped), list it for this session and open it."""
        from semantify.sets.hub import HubRef

        ref = str(HubRef.parse(str(name or "").strip()))
        entry = self.page.catalog.add(ref, owner=session.token)
        rt = runtime(entry)
        session = view.opened(session, rt)
        return {**self.page.opened(session, rt, [f"loaded {ref} from the Hub."]),
                self.ui.picker: self.page.picker(session)}

    @in_turn
    @reports_errors
    def set_everyone(self, session: Session, everyone: bool) -> dict:
        session = dataclasses.replace(session, everyone=bool(everyone))
        return {self.ui.state: session, self.ui.picker: self.page.picker(session)}
