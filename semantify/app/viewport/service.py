"""Frames for drag-to-orbit views: per-session cameras, cheap frames while moving, a full
frame on release, stale requests dropped, and per-view rate limits so that a client flooding
view requests cannot starve other sessions.

A view is one browser page's viewer. The page's JavaScript (``orbit.js``) asks for frames
through the component's server function with a growing sequence number, at most one request
in flight, always its latest camera; the server renders a view's frames one at a time and
refuses (without rendering) a request that is older than one already seen, that arrives while
the view is rendering, or that exceeds the view's rate.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import math
import secrets
import threading
import time
from collections.abc import Callable

import numpy as np

from semantify.app.priority import WORK
from semantify.errors import SemantifyError
from semantify.limits import (BURST, CROWDED_PARTIES, CROWDED_RETRY_MS, FRAME_SIZES,
                              FRAMES_PER_SECOND, MAX_DRAFT, MAX_FRAME_SLIDERS, MAX_VIEWS,
                              PARTY_FRAMES_PER_SECOND, PARTY_WAITING, QUIET_PARTY_SECONDS,
                              SHAPE_WORKERS, VIEWS_PER_OWNER, VIEWS_PER_PARTY)
from viewer import (CLAY, Framing, InteractiveRenderer, Material, OrbitCamera, Surface, ViewerError,
                    gl_turns)

HEAVY_PARTY = "heavy jobs"  # the one party of every heavy job's drawing (no address has a space)


@dataclasses.dataclass(frozen=True)
class Scene:
    """What a view shows: ``vertices`` (V, 3), or their Surface (the service makes one outside
    the renderer's turn), drawn by ``renderer`` (one per model, shared) in ``material``,
    framed by ``framing`` (None: the renderer's own), optional ``colors``.
    ``final`` is False for a quick shape that a slower build will refine (a metric set's
    shape before its refinement). ``sliders`` ((slot, value) pairs) are values the page should
    show on sliders it did not move: a metric set's free sliders, which follow the body."""

    renderer: InteractiveRenderer
    vertices: np.ndarray | Surface
    material: Material = CLAY
    framing: Framing | None = None
    colors: np.ndarray | None = None
    final: bool = True
    sliders: tuple[tuple[int, float], ...] = ()


class Turns:
    """Frames are drawn in turn across parties (a party: a network address, or a view), first
    come first served within one: with many pages dragging each party waits about as long as
    the others, and a party with forty busy views waits its one turn like a party with one,
    instead of pushing every other frame forty places back. The turn passes straight to the
    next in line: one wake-up per frame, however many wait. ``slots`` frames hold turns at
    once (1: the renderer, one GL context; more: work that runs side by side on the cores).

    A party that had no turn for ``quiet`` seconds goes before the busy ones (after other
    quiet ones) for its next turn: a new visitor's first frame does not wait for forty busy
    addresses' turns, and a flooding party, served all the time, never counts as quiet."""

    def __init__(self, slots: int = 1, quiet: float = QUIET_PARTY_SECONDS):
        self._lock = threading.Lock()
        self._waiting: collections.OrderedDict[str, collections.deque[threading.Event]] = \
            collections.OrderedDict()
        self._first: collections.OrderedDict[str, collections.deque[threading.Event]] = \
            collections.OrderedDict()  # quiet parties' lines, served before _waiting's
        self._free = slots
        self.quiet = quiet
        self._served: collections.OrderedDict[str, float] = collections.OrderedDict()

    @contextlib.contextmanager
    def turn(self, party: str):
        """Hold the renderer for one frame of ``party``."""
        self.wait(party)
        try:
            yield
        finally:
            self.done()

    def wait(self, party: str, most: int | None = None) -> bool:
        """Wait for the renderer for one frame of ``party`` (then call :meth:`done`); False at
        once, without waiting, when ``most`` frames of ``party`` already wait (a request that
        waits holds one of the server's threads, so one address may not hold many)."""
        with self._lock:
            if not self._free:
                lines = self._first if party in self._first or (
                    party not in self._waiting and self._quiet(party)) else self._waiting
                line = lines.setdefault(party, collections.deque())
                if most is not None and len(line) >= most:
                    if not line:
                        del lines[party]
                    return False
                event = threading.Event()
                line.append(event)
            else:
                self._free, event = self._free - 1, None
                self._serve(party)
        if event is not None:
            event.wait()
        return True

    def waiting(self) -> int:
        """How many frames wait for a turn."""
        with self._lock:
            return sum(map(len, self._first.values())) + sum(map(len, self._waiting.values()))

    def crowded(self, party: str, most: int = CROWDED_PARTIES) -> bool:
        """Whether ``most`` parties or more wait for turns and ``party`` is a busy one (not
        quiet): then its frames had better be cheap."""
        with self._lock:
            return len(self._first) + len(self._waiting) >= most and not self._quiet(party)

    def _quiet(self, party: str) -> bool:
        served = self._served.get(party)
        return served is None or time.monotonic() - served > self.quiet

    def _serve(self, party: str) -> None:
        """Note that ``party`` has a turn now (the book keeps the last ``quiet`` seconds)."""
        now = time.monotonic()
        self._served[party] = now
        self._served.move_to_end(party)
        while self._served and now - next(iter(self._served.values())) > self.quiet:
            self._served.popitem(last=False)

    def done(self) -> None:
        """Pass the turn on to the next party in line."""
        with self._lock:
            lines = self._first or self._waiting
            if not lines:
                self._free += 1
                return
            party, line = lines.popitem(last=False)
            event = line.popleft()
            if line:  # its next frame waits for the others' turns
                self._waiting[party] = line
            self._serve(party)
            event.set()  # the slot passes straight to the next one


class RateLimit:
    """A token bucket: ``rate`` tokens per second, at most ``burst`` saved up."""

    def __init__(self, rate: float = FRAMES_PER_SECOND, burst: int = BURST):
        self.rate, self.burst = rate, burst
        self.tokens, self.stamp = float(burst), time.monotonic()

    def take(self) -> float:
        """0 if a token was taken, else the seconds until one will be there."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class RateLimits:
    """A :class:`RateLimit` per key (a network address), the least recently used forgotten
    beyond ``most`` keys."""

    def __init__(self, rate: float, burst: int, most: int):
        self.rate, self.burst, self.most = rate, burst, most
        self._limits: collections.OrderedDict[str, RateLimit] = collections.OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """``key``'s RateLimit.take()."""
        with self._lock:
            limit = self._limits.pop(key, None) or RateLimit(self.rate, self.burst)
            self._limits[key] = limit  # most recent last; the oldest forgotten
            while len(self._limits) > self.most:
                self._limits.popitem(last=False)
            return limit.take()


@dataclasses.dataclass
class View:
    """One page's viewer: its camera, what it shows, and its request bookkeeping.

    ``follow`` builds the scene for slider values a page sends while a slider is dragged
    (``({slot: value}, quick) -> Scene``), so drags need no round trip through the app's
    events.
    """

    camera: OrbitCamera = dataclasses.field(default_factory=OrbitCamera)
    scene: Scene | None = None
    follow: Callable[[dict[int, float], bool], Scene] | None = None
    last_seq: int = 0
    limit: RateLimit = dataclasses.field(default_factory=RateLimit)
    rendering: threading.Lock = dataclasses.field(default_factory=threading.Lock)
    owner: str = ""  # the session that opened it
    party: str = ""  # whose turn its frames take (its visitor's network address)
    size: int | None = None  # its full frames' side as its page asked (None: the renderer's)


def frame_size(wanted) -> int | None:
    """The side of the full frames a page asks for (its element's size x devicePixelRatio):
    the smallest of FRAME_SIZES that is at least ``wanted``, the largest beyond it; None for
    junk (the view keeps its size)."""
    if isinstance(wanted, bool) or not isinstance(wanted, (int, float)) or \
            not math.isfinite(wanted) or wanted <= 0:
        return None
    return next((side for side in FRAME_SIZES if side >= wanted), FRAME_SIZES[-1])


def camera_from(request: dict) -> OrbitCamera:
    """The camera a page sent (any junk becomes a safe camera: see OrbitCamera.clamped)."""
    pan = request.get("pan")
    pan = tuple(pan[:2]) if isinstance(pan, (list, tuple)) and len(pan) >= 2 else (0.0, 0.0)
    return OrbitCamera(request.get("azimuth"), request.get("elevation"),
                       request.get("distance"), pan).clamped()


class FrameService:
    """Views by id, and the frames they ask for, as JPEG data URLs.

    ``encode`` turns an (H, W, 3) uint8 frame into what the page shows (a data URL).
    """

    def __init__(self, encode, max_views: int = MAX_VIEWS, rate: float = FRAMES_PER_SECOND,
                 burst: int = BURST, party_rate: float = PARTY_FRAMES_PER_SECOND):
        self.encode = encode
        self.max_views, self.rate, self.burst = max_views, rate, burst
        self._views: collections.OrderedDict[str, View] = collections.OrderedDict()
        self._lock = threading.Lock()
        self._turns = Turns()  # the renderer: one frame at a time, in turn across parties
        self._work = Turns(SHAPE_WORKERS)  # slider drags' shapes, built beside the renderer
        self._parties = RateLimits(party_rate, burst, max_views)  # per network address
        self.stats = collections.Counter()

    def heavy_turns(self):
        """Within: drawing (turntables, animations, word builds) takes turns with the views'
        frames, every heavy job in one line: however many run, a dragging visitor waits for at
        most one of their pictures per round."""
        return gl_turns(lambda: self._turns.turn(HEAVY_PARTY))

    def open(self, owner: str = "", party: str = "") -> str:
        """A new view's id (unguessable; the page sends it back with each request) for session
        ``owner`` of network address ``party``. An owner keeps at most VIEWS_PER_OWNER views
        and a party VIEWS_PER_PARTY: beyond that their own least recently used one is
        forgotten, never another visitor's."""
        view_id = secrets.token_urlsafe(12)
        with self._lock:
            self._views[view_id] = View(limit=RateLimit(self.rate, self.burst), owner=owner,
                                        party=party or view_id)
            for attribute, value, cap in (("owner", owner, VIEWS_PER_OWNER),
                                          ("party", party, VIEWS_PER_PARTY)):
                same = [key for key, view in self._views.items()
                        if value and getattr(view, attribute) == value]
                for key in same[: max(0, len(same) - cap)]:
                    del self._views[key]
            while len(self._views) > self.max_views:
                self._views.popitem(last=False)
        return view_id

    def _view(self, view_id) -> View | None:
        with self._lock:
            view = self._views.get(view_id) if isinstance(view_id, str) else None
            if view is not None:
                self._views.move_to_end(view_id)
            return view

    def show(self, view_id: str, scene: Scene) -> None:
        """Make ``view_id`` show ``scene`` (a new shape, pose, material or colours)."""
        view = self._view(view_id)
        if view is None:
            raise KeyError(f"no view {view_id!r}; open one with FrameService.open().")
        view.scene = drawable(scene)

    def follow(self, view_id: str, build: Callable[[dict[int, float], bool], Scene]) -> None:
        """Let ``view_id`` rebuild its scene from the slider values a page sends with frame
        requests: ``build({slot: value}, quick)`` (slots: the numbers ending the sliders'
        element ids); ``quick`` (drafts, and the first frame after a release) may skip slow
        steps such as a metric refinement, and return a Scene with ``final=False``."""
        view = self._view(view_id)
        if view is None:
            raise KeyError(f"no view {view_id!r}; open one with FrameService.open().")
        view.follow = build

    def camera(self, view_id: str) -> OrbitCamera | None:
        view = self._view(view_id)
        return None if view is None else view.camera

    def render(self, view_id: str, quality: str = "full") -> str | None:
        """The view's scene from its current camera, encoded (None without a scene). For the
        app's own events (a slider moved): waits for a frame in progress, never rate-limited."""
        view = self._view(view_id)
        if view is None or view.scene is None:
            return None
        with view.rendering:
            with self._turns.turn(view.party):
                image = WORK.run(self._draw, view, view.scene, quality)
            return WORK.run(self.encode, image)

    def _draw(self, view: View, scene: Scene, quality: str) -> np.ndarray:
        side = view.size  # a draft is half of it, at most MAX_DRAFT
        if side is not None and quality == "draft":
            side = min(side, 2 * MAX_DRAFT)
        with gl_turns(None):  # in this frame's turn already
            image = scene.renderer.render(scene.vertices, view.camera, colors=scene.colors,
                                          material=scene.material, quality=quality,
                                          framing=scene.framing, size=side)
        self.stats[f"frames_{quality}"] += 1
        return image

    def frame(self, request) -> dict:
        """A page's request ``{view, seq, azimuth, elevation, distance, pan, quality[, size,
        values, quick]}`` -> ``{seq, image, quality, final[, retry_ms]}`` (``size``: the side
        the page shows frames at, in device pixels; see :func:`frame_size`; ``retry_ms``: a full
        frame asked for while the renderer is crowded came as a draft, to ask for again after
        it), or ``{seq, dropped: reason, retry_ms}`` when it is not drawn: ``unknown`` view,
        ``stale`` (older than one seen), ``busy`` (a frame of this view is being drawn),
        ``rate`` (over the view's rate), ``empty`` (nothing to show) or ``values`` (slider
        values the view cannot follow).
        ``values`` ([[slot, value], ...], sent while a slider is dragged) rebuild the scene
        first, through the view's ``follow``, quickly for drafts or when ``quick`` is true;
        ``final`` False says a request without ``quick`` would refine the shape shown, and
        ``sliders`` ([[slot, value], ...], only after ``values``) are the values the rebuilt
        scene gives the sliders the page did not move (a metric set's free ones), for the page
        to show during the drag."""
        if not isinstance(request, dict):
            return {"seq": 0, "dropped": "unknown", "retry_ms": 0}
        seq = request.get("seq")
        seq = int(seq) if isinstance(seq, (int, float)) and math.isfinite(seq) else 0
        quality = "draft" if request.get("quality") == "draft" else "full"
        view = self._view(request.get("view"))
        if view is None:
            return self._dropped(seq, "unknown")
        if seq <= view.last_seq:
            return self._dropped(seq, "stale")
        if not view.rendering.acquire(blocking=False):
            return self._dropped(seq, "busy", 10)
        try:
            wait = view.limit.take() or self._parties.take(view.party)
            if wait:
                return self._dropped(seq, "rate", 1000 * wait)
            view.last_seq = seq
            view.camera = camera_from(request)
            view.size = frame_size(request.get("size")) or view.size
            if "values" in request:  # the shape is built beside the renderer, not in its turn
                if not self._work.wait(view.party, PARTY_WAITING):
                    return self._dropped(seq, "busy", 50)
                try:
                    quick = quality == "draft" or request.get("quick") is True
                    scene = WORK.run(self._follow, view, request["values"], quick)
                finally:
                    self._work.done()
                if scene is None:
                    return self._dropped(seq, "values")
                view.scene = scene
            scene = view.scene
            if scene is None:
                return self._dropped(seq, "empty", 100)
            asked = quality  # a busy page's full frame, while many wait, is drawn as a draft
            if quality == "full" and self._turns.crowded(view.party):
                quality = "draft"
            if not self._turns.wait(view.party, PARTY_WAITING):
                return self._dropped(seq, "busy", 50)
            try:
                image = WORK.run(self._draw, view, scene, quality)
            finally:
                self._turns.done()
            reply = {"seq": seq, "image": WORK.run(self.encode, image), "quality": quality,
                     "final": scene.final}
            if quality != asked:
                self.stats["frames_crowded"] += 1
                reply["retry_ms"] = CROWDED_RETRY_MS
            if "values" in request and scene.sliders:
                reply["sliders"] = [[slot, value] for slot, value in scene.sliders]
            return reply
        finally:
            view.rendering.release()

    @staticmethod
    def _follow(view: View, values, quick: bool) -> Scene | None:
        """The scene for a page's ``[[slot, value], ...]``, or None for junk or when the view
        follows no sliders."""
        by_slot = slider_pairs(values)
        if view.follow is None or by_slot is None:
            return None
        try:
            return drawable(view.follow(by_slot, quick))
        except (SemantifyError, ViewerError, ValueError, IndexError, KeyError):  # refused
            return None

    def _dropped(self, seq: int, reason: str, retry_ms: float = 0) -> dict:
        self.stats[f"dropped_{reason}"] += 1
        return {"seq": seq, "dropped": reason, "retry_ms": round(retry_ms, 1)}


def drawable(scene: Scene) -> Scene:
    """``scene`` with its mesh as a Surface (its normals made), ready for the renderer."""
    if isinstance(scene.vertices, Surface):
        return scene
    return dataclasses.replace(scene, vertices=scene.renderer.surface(scene.vertices))


def slider_pairs(values) -> dict[int, float] | None:
    """A page's ``[[slot, value], ...]`` as {slot: value}, or None unless every slot is an
    integer in [0, MAX_FRAME_SLIDERS) and every value a finite number."""
    if not isinstance(values, list) or len(values) > MAX_FRAME_SLIDERS:
        return None
    by_slot = {}
    for pair in values:
        if not (isinstance(pair, list) and len(pair) == 2 and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                for v in pair) and 0 <= pair[0] < MAX_FRAME_SLIDERS
                and pair[0] == int(pair[0])):
            return None
        by_slot[int(pair[0])] = float(pair[1])
    return by_slot
