"""Slider sets on the Hub: hf:// resolution through the real huggingface_hub code, offline from
a prepared cache and online against a local stand-in Hub; push's dry run, card and refusals.

huggingface_hub reads HF_HUB_OFFLINE, HF_HUB_CACHE and HF_ENDPOINT when it is imported, so
each environment runs in its own Python process.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from semantify.cli import main
from hub_fixtures import (FakeHub, blob_id, folder_files, silent_server,
                          write_cached_repo)

ROOT = Path(__file__).resolve().parents[1]
METRIC_SET = ROOT / "sliders" / "anny-body-metric"

# Resolve each source and load it as a slider set; print {source: result} as JSON.
DRIVER = """
import json, sys, time
from semantify.errors import SemantifyError
from semantify.sets.hub import resolve_slider_set
from semantify.sets.sliders import SliderSet
out = {}
for source in sys.argv[1:]:
    start = time.perf_counter()
    try:
        folder = resolve_slider_set(source)
        loaded = SliderSet.load(source)  # the path every front takes
        assert loaded.name == source or not source.startswith("hf://"), loaded.name
        out[source] = {"folder": str(folder), "descriptors": loaded.names}
    except SemantifyError as error:
        out[source] = {"error": str(error)}
    out[source]["seconds"] = time.perf_counter() - start
print(json.dumps(out))
"""


def _env(cache: Path, offline: bool, endpoint: str | None = None) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("HF_") and k != "HUGGINGFACE_HUB_CACHE"}
    env.update(PYTHONPATH=str(ROOT), HF_HUB_CACHE=str(cache), HF_HOME=str(cache.parent / "home"),
               HF_HUB_OFFLINE="1" if offline else "0", HF_HUB_DISABLE_PROGRESS_BARS="1",
               HF_HUB_DISABLE_TELEMETRY="1")
    if endpoint:
        env["HF_ENDPOINT"] = endpoint
    return env


def _resolve(env: dict, *sources: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", DRIVER, *sources], env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _one_line_error(result: dict, *words: str) -> str:
    assert "error" in result, result
    message = result["error"]
    assert "\n" not in message and result["seconds"] < 15, result
    for word in words:
        assert word in message, (word, message)
    return message


@pytest.fixture(scope="module")
def metric_files(tmp_path_factory):
    """The shipped metric set, saved again in the current format, with its model card."""
    from semantify.sets.sliders import SliderSet

    folder = tmp_path_factory.mktemp("set") / "anny-body-metric"
    SliderSet.load(METRIC_SET).save(folder)
    (folder / "README.md").write_bytes((METRIC_SET / "README.md").read_bytes())
    files = folder_files(folder)
    assert "sliders.json" in files and any(name.endswith(".safetensors") for name in files)
    return files


@pytest.fixture(scope="module")
def offline_cache(tmp_path_factory, metric_files):
    """A Hub cache holding a good set (main and tag v1), a repository that is not a slider set,
    a set with a damaged blob and a set whose weights do not match its sliders.json."""
    cache = tmp_path_factory.mktemp("hf") / "hub"
    commits = {"good": write_cached_repo(cache, "alice/metric", metric_files, ("main", "v1"))}
    write_cached_repo(cache, "alice/notes", {"README.md": b"# just notes\n",
                                             "config.json": b"{}"})
    write_cached_repo(cache, "alice/damaged", metric_files)
    weights = next(name for name in metric_files if name.endswith(".safetensors"))
    blob = cache / "models--alice--damaged" / "blobs" / blob_id(weights, metric_files[weights])
    data = bytearray(blob.read_bytes())
    data[-1] ^= 0xFF
    blob.write_bytes(bytes(data))
    tampered = dict(metric_files)  # a slider range edited after the set was hashed
    manifest = json.loads(tampered["sliders.json"])
    manifest["sliders"][0]["high"] += 50
    tampered["sliders.json"] = json.dumps(manifest).encode()
    write_cached_repo(cache, "alice/tampered", tampered)
    return cache, commits


@pytest.fixture(scope="module")
def offline_results(offline_cache):
    """Every offline source of the tests below, resolved in one process (one environment)."""
    cache, commits = offline_cache
    return _resolve(_env(cache, offline=True), "hf://alice/metric", "hf://alice/metric@v1",
                    f"hf://alice/metric@{commits['good']}", str(METRIC_SET),
                    "hf://alice/missing", "hf://alice/metric@v9", "hf://alice/notes",
                    "hf://alice/damaged", "hf://alice/tampered", "hf://alice",
                    "hf://alice/metric@a@b")


def test_offline_cache_resolves_sets_by_branch_tag_and_commit(offline_cache, offline_results):
    cache, commits = offline_cache
    good = commits["good"]
    results = offline_results
    expected = json.loads((METRIC_SET / "sliders.json").read_text())
    expected = [slider["name"] for slider in expected["sliders"]]
    assert expected[:5] == ["height_cm", "chest_cm", "waist_cm", "hips_cm", "mass_kg"]
    snapshot = cache / "models--alice--metric" / "snapshots" / good
    for source in ("hf://alice/metric", "hf://alice/metric@v1", f"hf://alice/metric@{good}"):
        assert results[source].get("descriptors") == expected, results[source]
        assert Path(results[source]["folder"]) == snapshot
    assert results[str(METRIC_SET)]["folder"] == str(METRIC_SET)  # plain folders unchanged


def test_offline_bad_inputs_are_one_line_each(offline_results):
    results = offline_results
    _one_line_error(results["hf://alice/missing"], "not in the local Hugging Face cache",
                    "HF_HUB_OFFLINE")
    _one_line_error(results["hf://alice/metric@v9"], "hf://alice/metric@v9", "HF_HUB_OFFLINE")
    _one_line_error(results["hf://alice/notes"], "not a Semantify slider set", "sliders.json")
    _one_line_error(results["hf://alice/damaged"], "damaged", ".safetensors does not match",
                    "models--alice--damaged")
    _one_line_error(results["hf://alice/tampered"], "does not match its recorded sha256")
    for bad in ("hf://alice", "hf://alice/metric@a@b"):
        _one_line_error(results[bad], "cannot read Hub path", "hf://OWNER/NAME")


@pytest.fixture(scope="module")
def fake_hub(metric_files):
    hub = FakeHub()
    hub.add("bob/metric", metric_files, tags=("v1",))
    hub.add("bob/code", {"README.md": b"# code\n", "model.py": b"import os\n",
                         "weights.pkl": b"\x80\x04."})
    hub.add("bob/huge", {**metric_files, "poster.png": b"\x89PNG"},
            sizes={"poster.png": 5_000_000_000})
    yield hub
    hub.close()


def test_online_download_then_offline_from_the_warm_cache(fake_hub, metric_files, tmp_path):
    cache = tmp_path / "hub"
    online = _resolve(_env(cache, offline=False, endpoint=fake_hub.url),
                      "hf://bob/metric", "hf://bob/metric@v1")
    for result in online.values():
        assert result.get("descriptors", [None])[0] == "height_cm", result
    stored = {p.name for p in (cache / "models--bob--metric" / "snapshots").rglob("*")}
    assert stored >= set(metric_files) and "README.md" in stored
    served = len(fake_hub.requests)
    offline = _resolve(_env(cache, offline=True), "hf://bob/metric", "hf://bob/metric@v1")
    assert offline == {k: {**v, "seconds": offline[k]["seconds"]} for k, v in online.items()}
    assert len(fake_hub.requests) == served  # the offline run never asked it
    # A Hub that accepts connections and never answers: the cached copy, after a timeout.
    with silent_server() as endpoint:
        env = {**_env(cache, offline=False, endpoint=endpoint), "HF_HUB_ETAG_TIMEOUT": "1"}
        unreachable = _resolve(env, "hf://bob/metric", "hf://bob/other")
    assert unreachable["hf://bob/metric"]["descriptors"][0] == "height_cm"
    assert unreachable["hf://bob/metric"]["seconds"] < 10
    _one_line_error(unreachable["hf://bob/other"], "cannot reach the Hugging Face Hub",
                    "timed out", "not in the local cache")


def test_online_bad_inputs_are_one_line_each(fake_hub, tmp_path):
    cache = tmp_path / "hub"
    results = _resolve(_env(cache, offline=False, endpoint=fake_hub.url), "hf://bob/nothing",
                       "hf://bob/metric@v7", "hf://bob/code", "hf://bob/huge")
    _one_line_error(results["hf://bob/huge"], "holds 5000 MB of files")
    assert not (cache / "models--bob--huge").exists() or not list(
        (cache / "models--bob--huge").rglob("*.png"))
    _one_line_error(results["hf://bob/nothing"], "hf://bob/nothing does not exist", "hf auth")
    _one_line_error(results["hf://bob/metric@v7"], "has no revision 'v7'", "drop @v7")
    _one_line_error(results["hf://bob/code"], "not a Semantify slider set")
    # nothing was fetched for a repository that is not a slider set: no code, no pickle
    assert not list(cache.rglob("*.py")) and not list(cache.rglob("*.pkl"))
    assert not any("/resolve/" in r and "bob/code" in r for r in fake_hub.requests)


def test_push_dry_run_lists_files_and_card_metadata(metric_files, tmp_path, capsys):
    folder = tmp_path / "set"
    folder.mkdir()
    for name, data in metric_files.items():
        if name != "README.md":
            (folder / name).write_bytes(data)
    (folder / "notes.txt").write_text("private notes")
    assert main(["push", str(folder), "carol/anny-metric", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "hf://carol/anny-metric" in out and "nothing was uploaded" in out
    for line in ("library_name: semantify", "license: apache-2.0", "- anny", "- body"):
        assert line in out, line
    assert "mapper-" in out and "skipped: notes.txt" in out
    from semantify.sets.hub import plan_push

    card = plan_push(folder, "hf://carol/anny-metric").card  # the set has no README.md
    assert card.startswith("---\nlibrary_name: semantify") and "hf://carol/anny-metric" in card
    from semantify.sets.sliders import SliderSet

    height = SliderSet.load(METRIC_SET).sliders[0]
    assert f"| height_cm | {height.low} | {height.high} |" in card and "Apache-2.0" in card


def test_push_needs_a_token_and_reports_a_refused_one(fake_hub, tmp_path):
    cmd = [sys.executable, "-m", "semantify", "push", str(METRIC_SET), "carol/anny-metric"]
    env = _env(tmp_path / "hub", offline=False, endpoint=fake_hub.url)
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and time.perf_counter() - start < 30
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "no Hugging Face token" in lines[0] and "hf auth login" in lines[0]
    assert not any(r.startswith("POST") for r in fake_hub.requests)
    proc = subprocess.run(cmd, env={**env, "HF_TOKEN": "hf_not_a_valid_token"},
                          capture_output=True, text=True, timeout=60)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr[-2000:]
    assert "refused the push" in lines[0] and "HTTP 401" in lines[0]


def test_card_front_matter_states_the_licence_and_merges_into_a_card():
    from semantify.sets.card_metadata import front_matter, merge_card
    from semantify.clip import ClipSpec

    anny = front_matter("anny-body", "body", None)
    assert anny["library_name"] == "semantify" and anny["license"] == "apache-2.0"
    assert "base_model" not in anny and {"anny", "body", "measurements"} <= set(anny["tags"])
    smplx = front_matter("smplx-female", "body", ClipSpec.parse("tiny-random"))
    assert smplx["license"] == "other" and "smpl-x" in smplx["license_link"]
    assert {"smpl-x", "clip", "not-semantic"} <= set(smplx["tags"])
    laion = front_matter("flame-expression", "expression", ClipSpec.parse(None))
    assert laion["base_model"] == "laion/CLIP-ViT-B-32-laion2B-s34B-b79K"
    assert "not-semantic" not in laion["tags"] and laion["license_name"] == "flame-model-license"
    card = merge_card("---\nlicense: mit\ntags: [mine]\ndatasets: [x]\n---\n# Body text\n",
                      anny, body="unused")
    assert card.startswith("---\n") and card.rstrip().endswith("# Body text")
    assert "license: apache-2.0" in card and "datasets:" in card and "- mine" in card
    assert "# A body" in merge_card(None, anny, body="# A body\n")
