"""Dataset generation: real Anny, real rendering, tiny-random CLIP, resume, DDP, rescoring."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from semantify.cli import main
from semantify.data.dataset import open_dataset, shard_path
from semantify.errors import SemantifyError
from semantify.data.generation import GenerationSpec
from lightning_modules.generate import generate

TINY = {"name": "tiny-random"}


def _spec(samples=12, batch=2, **kw):
    from semantify.clip import ClipSpec

    return GenerationSpec("anny-body", samples, seed=7, shard_size=batch,
                          clip=ClipSpec.parse("tiny-random"), **kw)


def _shards(root: Path) -> dict[str, dict[str, torch.Tensor]]:
    return {p.name: load_file(p) for p in sorted((root / "shards").glob("*.safetensors"))}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """One uninterrupted single-process run that the other tests compare against."""
    out = tmp_path_factory.mktemp("reference")
    generate(_spec(thumbnails=32), out, progress=False)
    return out


def test_dataset_contents(reference):
    data = open_dataset(reference)
    assert len(data) == 12
    assert data.coefficients.dtype == torch.float32 and data.coefficients.shape[1] == 74
    assert data.image_embeds.dtype == torch.float16 and data.image_embeds.shape[:2] == (12, 2)
    norms = data.image_embeds.float().norm(dim=-1)
    assert torch.allclose(norms, torch.ones_like(norms), atol=1e-2)
    assert data.thumbnails.shape == (12, 2, 32, 32, 3) and data.thumbnails.float().mean() > 1
    assert data.measurement_names[0] == "height_cm"
    assert 100 < data.measurements[:, 0].min() and data.measurements[:, 0].max() < 230
    manifest = json.loads((reference / "manifest.json").read_text())
    assert manifest["clip"]["name"] and manifest["views"] == ["front", "side"]
    # different samples differ, and the views of one sample differ
    assert not torch.equal(data.image_embeds[0], data.image_embeds[1])
    assert not torch.equal(data.image_embeds[0, 0], data.image_embeds[0, 1])
    # no half-written files left behind
    assert not list(reference.rglob("*.tmp"))


def test_rerun_skips_finished_shards(reference):
    before = {p: p.stat().st_mtime_ns for p in (reference / "shards").iterdir()}
    summary = generate(_spec(thumbnails=32), reference, progress=False)
    assert summary["generated"] == 0
    assert before == {p: p.stat().st_mtime_ns for p in (reference / "shards").iterdir()}


@pytest.mark.slow
def test_kill_and_resume_gives_identical_dataset(reference, tmp_path):
    """Killed while a render process works for it (--workers 1), then resumed rendering in
    its own process (the CPU default): the same dataset as one uninterrupted run."""
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "semantify", "generate", "anny-body", "--samples", "12",
           "--batch-size", "2", "--seed", "7", "--clip", "tiny-random", "--thumbnails", "32",
           "--out", str(out)]
    proc = subprocess.Popen([*cmd, "--workers", "1"], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while not shard_path(out, 0).exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = sorted(p.name for p in (out / "shards").glob("*.safetensors"))
    assert 1 <= len(done) < 6, done  # killed midway
    assert main(cmd[3:]) == 0  # resumed in this process: only the kill needs another one
    resumed, uninterrupted = _shards(out), _shards(reference)
    assert resumed.keys() == uninterrupted.keys()
    for name in resumed:
        for key in uninterrupted[name]:
            a, b = resumed[name][key], uninterrupted[name][key]
            if key == "measurements":  # float sums over section points: equal to ~1e-6 relative
                assert torch.allclose(a, b, rtol=1e-5), (name, key)
            else:
                assert torch.equal(a, b), (name, key)
    assert not list(out.rglob("*.tmp"))


@pytest.mark.slow
def test_two_ddp_processes_cover_the_index_range_once(reference, tmp_path):
    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "semantify", "generate", "anny-body", "--samples", "12",
           "--batch-size", "2", "--seed", "7", "--clip", "tiny-random", "--thumbnails", "32",
           "--devices", "2", "--accelerator", "cpu", "--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    shards = _shards(out)
    indices = torch.cat([s["indices"] for s in shards.values()])
    assert sorted(indices.tolist()) == list(range(12))
    ref = _shards(reference)
    assert shards.keys() == ref.keys()
    for name, tensors in shards.items():
        assert torch.equal(tensors["coefficients"], ref[name]["coefficients"])
        assert torch.allclose(tensors["image_embeds"].float(), ref[name]["image_embeds"].float(),
                              atol=2e-3)


def test_rescore_new_descriptors_without_rendering(reference, capsys):
    assert main(["score", str(reference), "--descriptors", "fat,tall,long legs"]) == 0
    printed = capsys.readouterr().out
    assert "long legs" in printed
    stats = json.loads((reference / "scores.json").read_text())["statistics"]
    assert set(stats) == {"fat", "tall", "long legs"}
    assert all(-100 <= row["mean"] <= 100 and row["std"] >= 0 for row in stats.values())


def test_metric_only_generation_is_offline_and_fast(tmp_path):
    assert main(["generate", "anny-body", "--samples", "10", "--batch-size", "5",
                 "--clip", "none", "--out", str(tmp_path / "m")]) == 0
    data = open_dataset(tmp_path / "m")
    assert data.image_embeds is None and data.measurements.shape == (10, 8)


def test_bad_inputs(reference, tmp_path, capsys):
    with pytest.raises(SemantifyError, match="at least 1"):
        _spec(samples=0)
    with pytest.raises(SemantifyError, match="another dataset"):
        generate(_spec(samples=16), reference, progress=False)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(SemantifyError, match="not empty"):
        generate(_spec(), tmp_path / "busy", progress=False)
    assert (tmp_path / "busy" / "notes.txt").read_text() == "mine"
    assert main(["generate", "anny-body", "--samples", "4", "--clip", "no-such-model",
                 "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no-such-model" in err[0]
    assert not (tmp_path / "x").exists()
    for command in ("generate", "build"):
        args = ["anny-body", "--samples", "4", "--out", str(tmp_path / "x"), "--workers", "-1"]
        assert main([command, *args]) == 2
        assert capsys.readouterr().err.strip().endswith("--workers must be 0 or more, got -1.")
    assert not (tmp_path / "x").exists()


@pytest.mark.slow
def test_full_disk_leaves_no_partial_shard(tmp_path):
    """A write that fails (a file size limit standing in for a full disk) is a clean error.

    Rendering stays in the process (--workers 0, the default for 8 samples, named: a render
    process would need shared memory, which the same limit forbids)."""
    code = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))\n"
        "from semantify.cli import main\n"
        f"sys.exit(main(['generate', 'anny-body', '--samples', '8', '--batch-size', '4',"
        f" '--clip', 'tiny-random', '--thumbnails', '64', '--workers', '0',"
        f" '--out', {str(tmp_path / 'full')!r}]))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "cannot write" in proc.stderr and "disk" in proc.stderr
    assert not list((tmp_path / "full").rglob("*.tmp"))
    with pytest.raises(SemantifyError, match="incomplete"):
        open_dataset(tmp_path / "full")


def test_worker_errors_reach_the_user_as_their_own_line():
    from torch._utils import ExceptionWrapper

    from lightning_modules.generate import _unwrap

    try:
        raise SemantifyError("view front shows only background; widen the framing.")
    except SemantifyError:
        wrapped = ExceptionWrapper(where="in DataLoader worker process 0")
    with pytest.raises(SemantifyError) as caught:
        wrapped.reraise()  # what the DataLoader does in the main process
    assert str(_unwrap(caught.value)) == "view front shows only background; widen the framing."
    assert str(_unwrap(SemantifyError("plain"))) == "plain"
    assert _unwrap(RuntimeError("unrelated")) is None


def test_posed_skin_renders_are_recorded_and_measured_at_rest(reference, tmp_path):
    generate(_spec(samples=2, thumbnails=32, pose="sitting", appearance="skin"), tmp_path,
             progress=False)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["render"]["pose"] == "sitting" and manifest["render"]["appearance"] == "skin"
    posed, rest = open_dataset(tmp_path), open_dataset(reference)
    assert torch.equal(posed.coefficients, rest.coefficients[:2])
    assert torch.equal(posed.measurements, rest.measurements[:2])  # from the rest pose
    assert (posed.thumbnails.float() - rest.thumbnails[:2].float()).abs().mean() > 2
    with pytest.raises(SemantifyError, match="another dataset.*render"):
        generate(_spec(samples=2, thumbnails=32, pose="walking", appearance="skin"), tmp_path,
                 progress=False)
    with pytest.raises(SemantifyError, match="unknown pose 'dancing'.*valid poses: rest"):
        generate(_spec(samples=2, pose="dancing"), tmp_path / "new", progress=False)
    assert not (tmp_path / "new").exists()
