"""Serving before working: in public mode, the app's work (drawing frames, building shapes,
visitors' events and heavy jobs) runs on threads of lower CPU priority than the threads that
answer page loads, static files and admission, so that a server flooded with work still
answers a new visitor's page first; and heavy jobs (turntables, exports, photos, ...) run
lower still, so that frames and slider moves go before them.

Linux gives each thread its own niceness, and a thread's children inherit it: the GL driver's
drawing threads too, when the shared context is made on a work thread
(:meth:`WorkThreads.lower`). A thread's priority cannot be raised again without privileges,
so work runs on threads kept for it. Elsewhere, or until lowered, work runs where it is called.

Measured (``python bench/hostile.py``: 40 hostile sessions, a new visitor in Chromium on the
same two cores): a new visitor's page load 2.1-3.7 s with work at niceness 10, 3.6-4.8 s
without. Heavy jobs at niceness 19 rather than 10 did not, alone, shorten the visitor's frames
under 40 flooding addresses (p95 1.9-2.1 s against 1.8): the GL driver's threads drew their
pictures, so their drawing now also takes turns with the frames
(:meth:`semantify.app.viewport.service.FrameService.heavy_turns`).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import contextvars
import os
import sys
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
# More than the work that can wait inside a work thread for other work (view, heavy and
# training events: 4, by their concurrency limits; a frame's shape and drawing: 2, by their
# turns). Frames' encoding, the rest, never waits for anything: what queues behind it runs.
THREADS = 16
HEAVY_THREADS = 4  # heavy and training events: at most 2 at once (their concurrency limits)


class WorkThreads:
    """Where the app's work runs: :meth:`run` calls a function on a thread of lowered
    priority once :meth:`lower` was called, and on the calling thread before; :meth:`run_heavy`
    on a thread lowered further."""

    def __init__(self):
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._heavy: concurrent.futures.ThreadPoolExecutor | None = None
        self._mine = threading.local()
        self._lock = threading.Lock()
        self.niceness = 0  # the work threads' (absolute, as the system counts it)
        self.heavy_niceness = 0  # the heavy work threads'
        self.threads: dict[int, int] = {}  # their native ids: their niceness

    def lower(self, niceness: int, heavy: int | None = None) -> None:
        """Run work from now on ``niceness`` steps below the calling thread, and heavy work
        ``heavy`` steps below it (default: as far as the system allows) (Linux; a no-op
        elsewhere, or when lowered already), and make the shared GL context on a work thread
        if none was made yet."""
        if niceness <= 0 or not sys.platform.startswith("linux"):  # elsewhere a thread's id
            return  # is no process id: setpriority would name some process, or none
        with self._lock:
            if self._pool is not None:
                return
            base = os.getpriority(os.PRIO_PROCESS, 0)
            self.niceness = min(base + niceness, 19)
            self.heavy_niceness = min(base + (19 if heavy is None else heavy), 19)
            self._pool = concurrent.futures.ThreadPoolExecutor(
                THREADS, thread_name_prefix="semantify-work", initializer=self._enter,
                initargs=(self.niceness,))
            self._heavy = concurrent.futures.ThreadPoolExecutor(
                HEAVY_THREADS, thread_name_prefix="semantify-heavy", initializer=self._enter,
                initargs=(self.heavy_niceness,))
        from viewer import gl_context

        with contextlib.suppress(Exception):  # no GL here: the first frame says so
            self.run(gl_context)

    def _enter(self, niceness: int) -> None:
        self._mine.work = True
        self.threads[threading.get_native_id()] = niceness
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)

    def run(self, function: Callable[..., T], *args, **kwargs) -> T:
        """``function(*args, **kwargs)`` on a work thread (with the caller's context variables
        and grad mode), waiting for its answer; inline on a work thread (of either kind) or
        before :meth:`lower`."""
        return self._call(self._pool, function, *args, **kwargs)

    def run_heavy(self, function: Callable[..., T], *args, **kwargs) -> T:
        """:meth:`run` on a heavy work thread: below frames and moves."""
        return self._call(self._heavy, function, *args, **kwargs)

    def _call(self, pool, function: Callable[..., T], *args, **kwargs) -> T:
        if pool is None or getattr(self._mine, "work", False):
            return function(*args, **kwargs)
        import torch

        context, grad = contextvars.copy_context(), torch.is_grad_enabled()

        def call():
            with torch.set_grad_enabled(grad):
                return context.run(function, *args, **kwargs)
        return pool.submit(call).result()


WORK = WorkThreads()  # the process's work threads
