"""The server's build queue: one build at a time, places in the queue, failures, restarts."""

import sys
from pathlib import Path

import pytest

from lightning_modules.build import read_record
from lightning_modules.build_queue import BuildQueue
from semantify.recipes import BuildSettings, load_recipe


def _settings(samples):
    return BuildSettings.resolve(load_recipe("anny-body"), clip="tiny-random", samples=samples,
                                 quick=True)


def _fake(seconds: float, error: str | None = None):
    """A stand-in build process: sleeps, then succeeds or prints one error line."""
    code = f"import sys, time; time.sleep({seconds})"
    if error:
        code += f"; print('semantify build: error: {error}', file=sys.stderr); sys.exit(2)"
    return lambda out: [sys.executable, "-c", code]


def test_one_build_at_a_time_with_places_in_the_queue(tmp_path):
    finished = []
    queue = BuildQueue(on_finished=finished.append, command=_fake(1.0, "no CLIP here"))
    first = queue.submit(_settings(64), tmp_path / "a")
    second = queue.submit(_settings(65), tmp_path / "b")
    again = queue.submit(_settings(65), tmp_path / "b")
    assert first.state in ("queued", "running") and second.state == "queued"
    # The same build is queued once (positions can move meanwhile: the first one starts).
    assert again.out == second.out and queue.pending().count(second.out) == 1
    assert second.title.startswith("Anny body: word sliders")
    assert queue.wait(60)
    for name in ("a", "b"):
        state = queue.state(tmp_path / name)
        assert state.state == "failed" and state.error == "no CLIP here"
    assert finished == []


@pytest.mark.slow
def test_a_real_build_finishes_and_a_restart_resumes_claimed_ones(quick_build):
    """The session's build was claimed, then restored and run by a queue (conftest)."""
    out = quick_build.out
    assert quick_build.finished == (out,)
    assert read_record(out).stages["card"]
    queue = BuildQueue()
    assert queue.state(out).state == "finished"
    assert queue.submit(_settings(64), out).state == "finished"  # nothing to do again
    assert queue.restore(out.parent) == [] and queue.pending() == []
    assert not list(Path(out).glob(".progress.json"))


def test_a_busy_folder_is_waited_for_by_exit_status_not_wording(tmp_path):
    """Exit status 75 (FolderBusy) means "another process holds the folder": run it again,
    whatever stderr says; any other failure is final."""
    from semantify.writer_lock import FolderBusy

    marker = tmp_path / "tried"
    code = (f"import pathlib, sys; m = pathlib.Path({str(marker)!r})\n"
            "if not m.exists():\n"
            "    m.touch(); print('semantify build: error: a wording', file=sys.stderr)\n"
            f"    sys.exit({FolderBusy.EXIT_CODE})")
    finished = []
    queue = BuildQueue(on_finished=finished.append,
                       command=lambda out: [sys.executable, "-c", code])
    queue.submit(_settings(64), tmp_path / "a")
    assert queue.wait(60)
    assert marker.exists() and finished == [(tmp_path / "a").resolve()]


def test_a_build_yields_the_cpu_to_the_app(tmp_path):
    """The build process runs BUILD_NICENESS below the server (bench/build_priority.py: slider
    moves beside a build keep their time)."""
    import os

    from lightning_modules.build_queue import BUILD_NICENESS

    seen = tmp_path / "nice.txt"
    code = (f"import os, time; time.sleep(0.3); open({str(seen)!r}, 'w')"
            ".write(str(os.getpriority(os.PRIO_PROCESS, 0)))")
    queue = BuildQueue(command=lambda out: [sys.executable, "-c", code])
    queue.submit(_settings(64), tmp_path / "a")
    assert queue.wait(60)
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    assert int(seen.read_text()) == min(mine + BUILD_NICENESS, 19)
