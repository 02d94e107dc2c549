"""The server's build queue: one build at a time, places in the queue, failures, restarts."""

import sys
from pathlib import Path

from lightning_modules.build import claim, read_record
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
    assert again.position == second.position  # the same build is queued once
    assert second.title.startswith("Anny body: word sliders")
    assert queue.wait(60)
    for name in ("a", "b"):
        state = queue.state(tmp_path / name)
        assert state.state == "failed" and state.error == "no CLIP here"
    assert finished == []


def test_a_real_build_finishes_and_a_restart_resumes_claimed_ones(tmp_path):
    root = tmp_path / "sets"
    out = root / "claimed"
    claim(_settings(64), out)  # queued by a server that then stopped
    finished = []
    queue = BuildQueue(on_finished=finished.append)
    assert queue.restore(root) == [out.resolve()]
    assert queue.state(out).state in ("queued", "running")
    assert queue.wait(600)
    assert queue.state(out).state == "finished" and finished == [out.resolve()]
    assert read_record(out)["stages"]["card"]
    assert queue.submit(_settings(64), out).state == "finished"  # nothing to do again
    assert BuildQueue().restore(root) == []
    assert not list(Path(out).glob(".progress.json"))
