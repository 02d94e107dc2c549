"""Shared test set-up: caches inside the repo's .cache, offline hubs, headless GL."""

import contextlib
import json
import os
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("ANNY_CACHE_DIR", str(ROOT / ".cache" / "anny"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
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


@pytest.fixture(scope="session")
def word_set(tmp_path_factory):
    """A word slider set on anny-body made the way users make one (generate -> select ->
    train) with tiny-random CLIP: (dataset folder, slider set folder, chosen words)."""
    from semantify.cli import main

    root = tmp_path_factory.mktemp("word-set")
    data, sliders = root / "data", root / "sliders"
    assert main(["generate", "anny-body", "--samples", "96", "--batch-size", "32",
                 "--clip", "tiny-random", "--out", str(data)]) == 0
    assert main(["select", str(data), "--candidates", "body", "--max", "3"]) == 0
    report = json.loads((data / "selection" / "selection.json").read_text())
    chosen = [word["name"] for word in report["chosen"]]
    assert main(["train", str(data), "--descriptors", ",".join(chosen), "--out", str(sliders),
                 "--max-epochs", "3", "--selection", str(data / "selection"),
                 "--no-progress"]) == 0
    return data, sliders, chosen


@contextlib.contextmanager
def served_app(cache: Path, sources, public: bool):
    """A real app server offering slider sets ``sources``, with its cache root in ``cache``;
    yields its URL."""
    old = os.environ.get("SEMANTIFY_CACHE_DIR")
    os.environ["SEMANTIFY_CACHE_DIR"] = str(cache)
    from semantify.app import AppConfig, build_app
    from semantify.app.blocks import server_options

    demo = build_app(AppConfig.create(sources, public=public))
    demo.launch(server_name="127.0.0.1", prevent_thread_lock=True, quiet=True,
                **server_options())
    try:
        yield demo.local_url
    finally:
        demo.close()
        if old is None:
            os.environ.pop("SEMANTIFY_CACHE_DIR", None)
        else:
            os.environ["SEMANTIFY_CACHE_DIR"] = old


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
