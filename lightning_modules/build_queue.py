"""Builds in the background, one at a time per server, in a queue that survives restarts.

A job is a build folder, claimed (:func:`lightning_modules.build.claim`: its ``build.json``
written) when it is queued, so a restarted server finds every unfinished build again
(:meth:`BuildQueue.restore`). One worker thread runs the jobs in turn, each as
``python -m semantify build --resume DIR`` in its own process, at a lower priority than the
server's (:func:`lower_priority`: slider moves keep their time beside it): a failed or killed
build never takes the server down, and the build's own lock keeps two processes out of one
folder (a build it refuses exits with ``FolderBusy.EXIT_CODE``: the queue waits and tries
again). What a job is doing is read from its folder (``.progress.json``, ``build.json``), so
any page, after a reload too, asks :meth:`BuildQueue.state` and gets the same answer.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from lightning_modules.build import (Progress, claim, is_finished, quick_checks, read_progress,
                                     read_record)
from semantify import limits
from semantify.errors import SemantifyError
from semantify.recipes import BuildSettings
from semantify.recipes.settings import unfinished_builds
from semantify.writer_lock import FolderBusy

RETRY_SECONDS = 2.0
BUILD_NICENESS = 10  # bench/build_priority.py: slider moves beside a build keep their time


@dataclasses.dataclass(frozen=True)
class JobState:
    """Where one build stands: ``queued`` (``position`` 1 runs next), ``running`` (with its
    latest ``progress``), ``finished`` or ``failed`` (with the ``error`` line)."""

    out: Path
    title: str
    state: str
    position: int | None = None
    progress: Progress | None = None
    error: str | None = None


def lower_priority(pid: int) -> None:
    """Give process ``pid`` (a build just started, before it starts threads) BUILD_NICENESS
    more than this one: on a shared CPU it yields to the app's slider moves (alone, it took
    9-18% longer here). Where the system has no niceness, nothing changes."""
    try:
        mine = os.getpriority(os.PRIO_PROCESS, 0)
        os.setpriority(os.PRIO_PROCESS, pid, min(mine + BUILD_NICENESS, 19))
    except (AttributeError, OSError):  # Windows; a process already gone
        pass


class BuildQueue:
    """The builds of one server. ``on_finished(out)`` is called (in the worker thread) after
    each successful build; ``command(out)`` is the process that runs one (tests may swap it)."""

    def __init__(self, on_finished: Callable[[Path], None] | None = None,
                 command: Callable[[Path], list[str]] | None = None):
        self.on_finished = on_finished
        self.command = command or (lambda out: [sys.executable, "-m", "semantify", "build",
                                                "--resume", str(out)])
        self._lock = threading.Condition()
        self._waiting: list[Path] = []
        self._running: Path | None = None
        self._errors: dict[Path, str] = {}
        self._thread: threading.Thread | None = None

    def submit(self, settings: BuildSettings, out: Path | str | None = None) -> JobState:
        """Queue the build of ``settings`` (into ``out``, default ``settings.default_out()``);
        a build already queued, running or finished there is not queued twice."""
        out = Path(out) if out is not None else settings.default_out()
        record = claim(settings, out)
        if not is_finished(record):
            self._enqueue(out.resolve())
        return self.state(out)

    def pending(self) -> list[Path]:
        """The folders of the builds queued or running, running first."""
        with self._lock:
            return ([self._running] if self._running is not None else []) + list(self._waiting)

    def restore(self, root: Path | str | None = None,
                limit: int = limits.MAX_QUEUED_BUILDS) -> list[Path]:
        """Queue the unfinished builds under ``root`` (default: the built sets folder), oldest
        first and at most ``limit``, as after a restart; returns them."""
        from semantify.paths import built_sets_dir

        found = unfinished_builds(Path(root) if root is not None else built_sets_dir())[:limit]
        for out in found:
            self._enqueue(out)
        return found

    def state(self, out: Path | str) -> JobState:
        """The state of the build in ``out`` (from the queue and the folder's own files)."""
        out = Path(out).resolve()
        try:
            record = read_record(out)
        except SemantifyError as error:
            return JobState(out, out.name, "failed", error=str(error))
        title = record.title if record is not None else out.name
        with self._lock:
            if out in self._waiting:
                return JobState(out, title, "queued", self._waiting.index(out) + 1)
            running = out == self._running
            error = self._errors.get(out)
        if is_finished(record):
            return JobState(out, title, "finished")
        progress = read_progress(out)
        if running:
            return JobState(out, title, "running",
                            progress=progress if isinstance(progress, Progress) else None)
        if error or isinstance(progress, str):
            return JobState(out, title, "failed", error=error or progress)
        return JobState(out, title, "failed", error="the build stopped; queue it again to "
                                                     "resume it.")

    def wait(self, timeout: float | None = None) -> bool:
        """Block until nothing is queued or running (True), or ``timeout`` seconds pass."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while self._waiting or self._running is not None:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._lock.wait(left)
        return True

    def _enqueue(self, out: Path) -> None:
        with self._lock:
            if out == self._running or out in self._waiting:
                return
            self._errors.pop(out, None)
            self._waiting.append(out)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="semantify-builds",
                                                daemon=True)
                self._thread.start()
            self._lock.notify_all()

    def _work(self) -> None:
        while True:
            with self._lock:
                if not self._waiting:
                    self._thread = None
                    self._lock.notify_all()
                    return
                out = self._running = self._waiting.pop(0)
            error = self._run(out)
            with self._lock:
                self._running = None
                if error is not None:
                    self._errors[out] = error
                self._lock.notify_all()
            if error is None and self.on_finished is not None:
                self.on_finished(out)

    def _run(self, out: Path) -> str | None:
        """Run one build to its end (waiting while another process holds its folder); its
        error line, or None. A build that :func:`quick_checks` refuses starts no process."""
        try:
            record = read_record(out)
            if record is not None:
                quick_checks(BuildSettings.from_record(record), out)
        except SemantifyError as error:
            return str(error)
        while True:
            process = subprocess.Popen(self.command(out), stdin=subprocess.DEVNULL,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                       text=True, errors="replace")
            lower_priority(process.pid)
            _, stderr = process.communicate()
            if process.returncode == 0:
                return None
            if process.returncode == FolderBusy.EXIT_CODE:
                time.sleep(RETRY_SECONDS)  # an earlier server's build still runs: wait for it
                continue
            lines = [line for line in stderr.splitlines() if line.strip()]
            error = next((line.split(": error: ", 1)[1] for line in reversed(lines)
                          if ": error: " in line), None)
            return error or f"the build process failed ({lines[-1] if lines else 'no output'})"
