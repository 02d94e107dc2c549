"""Shared test set-up: caches inside the repo's .cache, offline hubs, headless GL."""

import contextlib
import dataclasses
import functools
import json
import os
import socket
import ssl
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("ANNY_CACHE_DIR", str(ROOT / ".cache" / "anny"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
if os.environ.get("PYTEST_XDIST_WORKER"):
    # The workers (and the processes they start) already share the cores: one torch thread
    # each. With two each, OpenMP threads spin-wait for a core (two processes of small matmuls
    # here: 18 s against 6 s), and the suite took 254.6 s against 236-241 s.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
# Gradio's file cache, one per test run: servers that delete their cache on shutdown must not
# delete files another run (or a concurrent test run) is serving. Relative, as the app makes it
# (semantify.app.guards.gradio_cache), so that answers name no server folder.
(ROOT / ".cache" / "gradio-tests").mkdir(parents=True, exist_ok=True)
os.environ.setdefault("GRADIO_TEMP_DIR", os.path.relpath(tempfile.mkdtemp(
    prefix="run-", dir=ROOT / ".cache" / "gradio-tests")))


@pytest.fixture
def models_dir(tmp_path_factory, monkeypatch):
    """Synthetic licensed model files (SMPL, SMPL-X, FLAME, SMAL) in their real formats, with
    SEMANTIFY_MODELS_DIR pointing at them."""
    import synthetic_models

    tree = synthetic_models.write_model_tree(tmp_path_factory.mktemp("models"))
    monkeypatch.setenv("SEMANTIFY_MODELS_DIR", str(tree))
    return tree


def made_once(tmp_path_factory, name: str, make):
    """``make(folder)``'s JSON result, made once per test run in a folder every pytest-xdist
    worker of the run shares: the first worker to ask makes it (under a lock), the others wait
    and read it. Only for what tests only read (their outputs go to their own folders)."""
    from filelock import FileLock

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the run's folder, above each worker's own
    folder, done = root / name, root / f"{name}.json"
    with FileLock(str(root / f"{name}.lock")):
        if not done.exists():
            folder.mkdir()
            done.write_text(json.dumps(make(folder)))
    return json.loads(done.read_text())


@pytest.fixture(scope="session", autouse=True)
def _work_threads_lowered_a_little():
    """A public app lowers its process's work threads for good (semantify.app.priority.WORK:
    niceness 10, heavy jobs 19), and a test worker then serves every later test's app from
    them, starved beside the other workers' tests. So each worker lowers them first, by one
    and two steps (later lowering is a no-op): the same threads, order and code paths."""
    from semantify.app.priority import WORK

    WORK.lower(1, 2)


@pytest.fixture(scope="session")
def word_set(tmp_path_factory):
    """A word slider set on anny-body made the way users make one (generate -> select ->
    train) with tiny-random CLIP: (dataset folder, slider set folder, chosen words)."""
    data, sliders, chosen = made_once(tmp_path_factory, "word-set", _make_word_set)
    return Path(data), Path(sliders), chosen


def _make_word_set(root: Path) -> list:
    from semantify.cli import main

    data, sliders = root / "data", root / "sliders"
    assert main(["generate", "anny-body", "--samples", "96", "--batch-size", "32",
                 "--clip", "tiny-random", "--out", str(data)]) == 0
    assert main(["select", str(data), "--candidates", "body", "--max", "3"]) == 0
    report = json.loads((data / "selection" / "selection.json").read_text())
    chosen = [word["name"] for word in report["chosen"]]
    assert main(["train", str(data), "--descriptors", ",".join(chosen), "--out", str(sliders),
                 "--max-epochs", "3", "--selection", str(data / "selection"),
                 "--no-progress"]) == 0
    return [str(data), str(sliders), chosen]


@pytest.fixture(scope="session")
def metric_data(tmp_path_factory):
    """600 anny-body bodies with their measurements and no CLIP (``semantify generate
    --clip none``), the one dataset the tests' metric slider sets train on: its folder,
    ``data``, so that a set trained into a folder beside it records ``../data``."""
    return Path(made_once(tmp_path_factory, "metric", _make_metric_data))


def _make_metric_data(root: Path) -> str:
    from semantify.cli import main

    data = root / "data"
    assert main(["generate", "anny-body", "--samples", "600", "--clip", "none",
                 "--out", str(data)]) == 0
    return str(data)


def quick_settings(samples: int = 64):
    """The build settings of anny-body's recipe with --quick, tiny-random CLIP and ``samples``."""
    from semantify.recipes import BuildSettings, load_recipe

    return BuildSettings.resolve(load_recipe("anny-body"), clip="tiny-random", samples=samples,
                                 quick=True)


@dataclasses.dataclass(frozen=True)
class QuickBuild:
    """The suite's one real build: its folder, and the folders the queue reported finished."""

    out: Path
    finished: tuple[Path, ...]


@pytest.fixture(scope="session")
def quick_build(tmp_path_factory):
    """``semantify build anny-body --quick --samples 64 --clip tiny-random`` (NOT semantic),
    run the way a restarted server runs a queued build: claimed, then restored by a
    BuildQueue, which runs ``python -m semantify build --resume DIR`` in a process of its own
    (so the build reads its settings from its folder alone). Made once per run
    (:func:`made_once`): tests only read it (those that run ``semantify build`` on it again
    take a copy, since a build takes its folder's lock)."""
    out, finished = made_once(tmp_path_factory, "quick-build", _make_quick_build)
    return QuickBuild(Path(out), tuple(map(Path, finished)))


def _make_quick_build(root: Path) -> list:
    from lightning_modules.build import claim
    from lightning_modules.build_queue import BuildQueue

    out = (root / "anny-body").resolve()
    claim(quick_settings(), out)
    finished = []
    queue = BuildQueue(on_finished=finished.append)
    assert queue.restore(root) == [out]
    assert queue.state(out).state in ("queued", "running")
    assert queue.wait(900)
    state = queue.state(out)
    assert state.state == "finished", state.error
    return [str(out), [str(path) for path in finished]]


@functools.cache
def _tls() -> ssl.SSLContext:
    return ssl.create_default_context()


def api_client(url: str, **options):
    """A gradio_client for a test server. It sends every request through a fresh httpx client
    whose TLS context loads the CA bundle again (about 20 ms of CPU a request: test_hostile
    took 51 CPU-seconds, 38 without): its clients share one context (the servers are http)."""
    import gradio_client

    return gradio_client.Client(url, verbose=False, ssl_verify=_tls(), **options)


def free_port() -> int:
    """A port of our own: the suite's processes (pytest -n) start servers at the same time."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


QUEUE_IDLE_POLLS = {"sleep_when_free": 0.005, "progress_update_sleep_when_free": 0.05}  # s


def launch_local(demo, **options) -> None:
    """Serve ``demo`` on localhost, on a port of its own, in the background. An idle Gradio
    queue looks for events every millisecond and for progress every 10 ms, 4 % of a core per
    server here, and the suite runs several servers beside its own work on two cores: its
    servers look every 5 and 50 ms (QUEUE_IDLE_POLLS)."""
    demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True,
                quiet=True, **options)
    for name, seconds in QUEUE_IDLE_POLLS.items():
        setattr(demo._queue, name, seconds)


@contextlib.contextmanager
def served_app(cache: Path, sources, public: bool):
    """A real app server offering slider sets ``sources``, with its cache root in ``cache``;
    yields its URL."""
    old = os.environ.get("SEMANTIFY_CACHE_DIR")
    os.environ["SEMANTIFY_CACHE_DIR"] = str(cache)
    from semantify.app import AppConfig, build_app
    from semantify.app.blocks import server_options

    demo = build_app(AppConfig.create(sources, public=public))
    launch_local(demo, **server_options(public=public))
    try:
        yield demo.local_url
    finally:
        demo.close()
        if old is None:
            os.environ.pop("SEMANTIFY_CACHE_DIR", None)
        else:
            os.environ["SEMANTIFY_CACHE_DIR"] = old


@pytest.fixture(scope="session")
def word_app(tmp_path_factory, word_set):
    """The shared private app server offering the word set (listed first: a new page opens
    on it), with a cache root of its own: (URL, cache root)."""
    cache = tmp_path_factory.mktemp("word-app")
    with served_app(cache, [word_set[1]], public=False) as url:
        yield url, cache


CHROMIUM = "/usr/bin/chromium"  # Debian's: tests never download a browser
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                    reason="needs Debian's chromium (apt-get install chromium)")


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for every browser test (playwright drives Debian's binary)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
