"""What a new session costs, bounded per network address (public mode).

Gradio makes a session's state the first time a request names its ``session_hash``, whatever
the request: a copy of every component's config (about 65 ms of the interpreter and 0.4 MB
here, kept until 10,000 newer sessions push it out). The hash is the client's to choose, so
one stranger posting frames or predictions under fresh hashes could stall the web server's
event loop (the viewer's channel makes the state inside it) and fill the server's memory. A
page load is one session, so :class:`NewSessions` lets each address open NEW_SESSIONS_BURST
sessions at once and NEW_SESSIONS_PER_MINUTE after that, refusing the rest in one line before
Gradio sees them; a session already open costs nothing here.
"""

from __future__ import annotations

import collections
import json
import threading

from semantify import limits
from semantify.app.admission import address_of
from semantify.app.guards import refuse
from semantify.app.viewport.service import RateLimits

ROUTES = ("/component_server", "/queue/join", "/run/", "/api/", "/call/")


def names_session(scope) -> bool:
    """Whether a request may name a new session: a POST to one of Gradio's ROUTES."""
    path = str(scope.get("path", ""))
    return scope["type"] == "http" and scope.get("method") == "POST" and \
        "/gradio_api/" in path and any(route in path for route in ROUTES)


class NewSessions:
    """ASGI middleware: each address's budget of new sessions (see the module's text)."""

    def __init__(self, app, burst: int = limits.NEW_SESSIONS_BURST,
                 per_minute: float = limits.NEW_SESSIONS_PER_MINUTE,
                 max_body: int = limits.MAX_EVENT_BODY_BYTES):
        self.app, self.burst, self.rate, self.max_body = app, burst, per_minute / 60, max_body
        self._known: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._budgets = RateLimits(self.rate, burst, limits.ADDRESSES_REMEMBERED)
        self._lock = threading.Lock()

    async def __call__(self, scope, receive, send):
        if not names_session(scope):
            return await self.app(scope, receive, send)
        from starlette.requests import Request

        body, whole = b"", False
        while not whole:
            message = await receive()
            if message["type"] != "http.request":
                return None  # the client left
            body += message.get("body", b"")
            whole = not message.get("more_body", False)
            if len(body) > self.max_body:
                return await refuse(send, 413, f"a request to the app is at most "
                                               f"{self.max_body // 1_000_000} MB; send less.")
        session = session_of(body)
        if session is not None and not self._admit(session, address_of(Request(scope))):
            return await refuse(send, 429, "too many new sessions from your network address; "
                                           "wait a minute, then reload the page.")
        sent = False

        async def replay():
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        return await self.app(scope, replay, send)

    def _admit(self, session: str, address: str) -> bool:
        """True for a session already open, or a new one within ``address``'s budget."""
        with self._lock:
            if session in self._known:
                self._known.move_to_end(session)
                return True
            if self._budgets.take(address):
                return False
            self._known[session] = None
            while len(self._known) > limits.SESSIONS_REMEMBERED:
                self._known.popitem(last=False)
            return True


def session_of(body: bytes) -> str | None:
    """The ``session_hash`` a JSON request body names, if any (anything else: None, and
    Gradio answers the request itself)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    session = data.get("session_hash") if isinstance(data, dict) else None
    return session if isinstance(session, str) and session else None

