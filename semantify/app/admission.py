"""Who may put an event in the server's queue: places per session, per network address and
per server, taken before an event is queued and given back when it finishes.

Three kinds of event hold places (``VIEW``: slider moves and filters, which must stay live;
``CHOICE``: a visitor's discrete choices, picker, pose, look, heatmap, reset, free, random,
which must land even while a drag holds the view places; ``HEAVY``: photos, text, exports,
turntables, animations, Hub loads, training). Heavy jobs have their own concurrency group, so
they can never take the places or the workers of view events and choices. A session holds at
most ``per_session`` places of a kind, an address ``per_address`` (however many sessions it
opens) and the server ``total``; beyond that the event is refused before it takes a place in
the queue (a heavy job's refusal is answered after HEAVY_REFUSAL_HELD_SECONDS). A place that
is not given back (the visitor left mid-event) is freed after ``expiry`` seconds.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import itertools
import os
import threading
import time
from collections.abc import Callable

from semantify import limits
from semantify.errors import SemantifyError


@dataclasses.dataclass(frozen=True)
class Kind:
    """One kind of event and its caps (see :mod:`semantify.limits`)."""

    name: str
    per_session: int
    per_address: int
    total: int
    expiry: float
    rate: float = float("inf")  # events a second one session may start
    refused: str = "the server is busy with your earlier requests; wait a moment."
    refusal_held: float = 0.0  # seconds a refusal waits before it is answered


VIEW = Kind("view", limits.VIEW_EVENTS_PENDING, limits.VIEW_EVENTS_PER_ADDRESS,
            limits.VIEW_EVENTS_TOTAL, expiry=10.0, rate=limits.VIEW_EVENTS_PER_SECOND,
            refused="too many view events; wait a moment.")
CHOICE = Kind("choice", limits.CHOICES_PENDING, limits.CHOICES_PER_ADDRESS,
              limits.CHOICES_TOTAL, expiry=10.0, rate=limits.CHOICES_PER_SECOND,
              refused="too many choices at once; wait a moment.")
HEAVY = Kind("heavy", limits.HEAVY_JOBS_PER_SESSION, limits.HEAVY_JOBS_PER_ADDRESS,
             limits.HEAVY_JOBS_TOTAL, expiry=limits.HEAVY_JOB_EXPIRY_SECONDS,
             refused="your earlier request is still running (one at a time per visitor); "
                     "wait for it to finish.",
             refusal_held=limits.HEAVY_REFUSAL_HELD_SECONDS)


class JobLimit:
    """Training jobs (new words, builds) per network address: on a public server at most
    ``PUBLIC_JOBS_PER_HOUR`` in ``PUBLIC_JOB_WINDOW`` seconds, however many sessions the
    address opens; a private server does not count them. One per app, shared by its fronts."""

    def __init__(self, public: bool):
        self.public = public
        self._started: dict[str, list[float]] = {}  # address: when it started training jobs
        self._lock = threading.Lock()

    def take(self, address: str) -> None:
        """Count a job of ``address``, or refuse it with one line when it is over the limit."""
        if not self.public:
            return
        now = time.time()
        with self._lock:
            recent = [t for t in self._started.get(address, ())
                      if now - t < limits.PUBLIC_JOB_WINDOW]
            if len(recent) >= limits.PUBLIC_JOBS_PER_HOUR:
                raise SemantifyError(f"this public server trains at most "
                                     f"{limits.PUBLIC_JOBS_PER_HOUR} new slider sets per visitor "
                                     "an hour; try again later, or run Semantify on your own "
                                     "machine.")
            self._started[address] = recent + [now]


def address_of(request) -> str:
    """The visitor's network address. Behind a proxy (a Hugging Face Space: ``SPACE_ID`` set;
    or ``SEMANTIFY_BEHIND_PROXY=1``, set by an operator who serves through one) it is the last
    hop of ``X-Forwarded-For``, the one the proxy itself added; elsewhere the connection's own
    address (a header a visitor sends is not trusted)."""
    headers = getattr(request, "headers", None) or {}
    if os.environ.get("SPACE_ID") or os.environ.get("SEMANTIFY_BEHIND_PROXY") == "1":
        forwarded = [hop.strip() for hop in str(headers.get("x-forwarded-for", "")).split(",")]
        if forwarded[-1]:
            return forwarded[-1][:64]
    client = getattr(request, "client", None)
    return str(getattr(client, "host", None) or "unknown")[:64]


class Gate:
    """The places of one kind held per address and on the whole server."""

    def __init__(self, kind: Kind):
        self.kind = kind
        self._held: dict[int, tuple[str, float]] = {}  # ticket: (address, taken at)
        self._tickets = itertools.count(1)
        self._lock = threading.Lock()

    def take(self, address: str) -> int | None:
        """A ticket for one place, or None when the address or the server is full."""
        now = time.monotonic()
        with self._lock:
            for ticket, (_, taken) in list(self._held.items()):
                if now - taken > self.kind.expiry:
                    del self._held[ticket]
            if len(self._held) >= self.kind.total or sum(
                    held == address for held, _ in self._held.values()) >= \
                    self.kind.per_address:
                return None
            ticket = next(self._tickets)
            self._held[ticket] = (address, now)
            return ticket

    def give_back(self, ticket: int) -> None:
        with self._lock:
            self._held.pop(ticket, None)


class Throttle:
    """One session's places, per kind: at most ``per_session`` waiting or running and at most
    ``rate`` started a second. Shared by every copy of the session's state."""

    def __init__(self):
        self._pending: dict[str, collections.deque] = collections.defaultdict(
            collections.deque)  # kind: (taken at, ticket, gate)
        self._started: dict[str, collections.deque] = collections.defaultdict(
            collections.deque)
        self._lock = threading.Lock()

    def admit(self, gate: Gate, address: str) -> bool:
        """Take a place of ``gate``'s kind for ``address``, or False over any cap."""
        kind, now = gate.kind, time.monotonic()
        with self._lock:
            pending, started = self._pending[kind.name], self._started[kind.name]
            while pending and now - pending[0][0] > kind.expiry:
                _, ticket, held_by = pending.popleft()
                held_by.give_back(ticket)
            while started and now - started[0] > 1.0:
                started.popleft()
            if len(pending) >= kind.per_session or len(started) >= kind.rate:
                return False
            ticket = gate.take(address)
            if ticket is None:
                return False
            pending.append((now, ticket, gate))
            started.append(now)
            return True

    def release(self, kind: Kind) -> None:
        """Give back the oldest place of ``kind`` (its event finished)."""
        with self._lock:
            pending = self._pending[kind.name]
            if pending:
                _, ticket, gate = pending.popleft()
                gate.give_back(ticket)

    def __deepcopy__(self, memo):  # gr.State copies its initial value per session
        return Throttle()


def validator(admit: Callable[[object, object], bool], kind: Kind):
    """A Gradio validator for an event of ``kind`` whose inputs start with the session state:
    ``admit(session, request)`` decides before the event is queued. Gradio passes the request
    to the parameter annotated ``gr.Request`` (here the first), and wants one answer per
    input (bare for a single input). A refusal is answered after ``kind.refusal_held``
    seconds, in the event loop (no thread waits): a client that asks again as soon as it is
    refused asks a few times a minute, not hundreds of times."""
    import gradio as gr

    async def check(request, session, *inputs):
        ok = bool(admit(session, request))
        if not ok and kind.refusal_held:
            await asyncio.sleep(kind.refusal_held)
        answers = [gr.validate(ok, "" if ok else kind.refused) for _ in range(1 + len(inputs))]
        return answers if inputs else answers[0]

    check.__annotations__ = {"request": gr.Request}  # read by Gradio to pass the request
    return check
