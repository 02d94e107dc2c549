"""Runs across machines and the dataset writer lock: two torchrun node ranks on localhost write
the same dataset as one process; launcher/--num-nodes mismatches and a second writer on the same
folder are one line each; a lock left by a killed writer is taken over."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from conftest import free_port
from lightning_modules.cluster import check_launch, detect_launch
from semantify.cli import main
from semantify.errors import SemantifyError
from semantify.writer_lock import LOCK_NAME

ROOT = Path(__file__).resolve().parents[1]
GENERATE = ["generate", "anny-body", "--samples", "8", "--batch-size", "2", "--seed", "3",
            "--clip", "tiny-random", "--accelerator", "cpu"]


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("RANK", "LOCAL_RANK", "NODE_RANK", "WORLD_SIZE", "SLURM_NTASKS")}
    return {**env, "PYTHONPATH": str(ROOT), **extra}


def _lines(stderr: str) -> list[str]:
    """stderr's lines, without Warp's CUDA banner (issue 15 silences it separately)."""
    return [line for line in stderr.strip().splitlines() if not line.startswith("Warp CUDA")]


def _tensors(root: Path) -> dict[str, dict[str, torch.Tensor]]:
    return {p.name: load_file(p) for p in sorted((root / "shards").glob("*.safetensors"))}


@pytest.mark.slow
def test_two_torchrun_nodes_write_the_dataset_of_one_process(tmp_path):
    assert main([*GENERATE, "--out", str(tmp_path / "one")]) == 0
    port = free_port()
    env = _env(GLOO_SOCKET_IFNAME="lo")
    nodes = [subprocess.Popen(
        [sys.executable, "-m", "torch.distributed.run", "--nnodes", "2", "--node-rank", str(rank),
         "--nproc-per-node", "1", "--master-addr", "127.0.0.1", "--master-port", str(port),
         "-m", "semantify", *GENERATE, "--num-nodes", "2", "--out", str(tmp_path / "two")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for rank in (0, 1)]
    outputs = [node.communicate(timeout=300) for node in nodes]
    for node, (out, err) in zip(nodes, outputs):
        assert node.returncode == 0, err[-3000:]
    summary = json.loads(outputs[0][0][outputs[0][0].index("{"):])
    assert summary["generated"] == 8 and "{" not in outputs[1][0]  # node 1 stays quiet
    one, two = _tensors(tmp_path / "one"), _tensors(tmp_path / "two")
    assert one.keys() == two.keys() and len(one) == 4
    for name in one:
        assert one[name].keys() == two[name].keys()
        for key in one[name]:
            assert torch.equal(one[name][key], two[name][key]), (name, key)
    assert (tmp_path / "one" / "manifest.json").read_text() == \
        (tmp_path / "two" / "manifest.json").read_text()
    assert not (tmp_path / "two" / LOCK_NAME).exists()


TORCHRUN_2x1 = {"RANK": "0", "GROUP_RANK": "0", "LOCAL_RANK": "0", "LOCAL_WORLD_SIZE": "1",
                "WORLD_SIZE": "2"}
SRUN_2x4 = {"SLURM_NTASKS": "8", "SLURM_NNODES": "2", "SLURM_JOB_NAME": "semantify"}


def test_launcher_and_num_nodes_must_agree():
    assert detect_launch(TORCHRUN_2x1).nodes == 2 and detect_launch(SRUN_2x4).per_node == 4
    assert check_launch(2, 1, TORCHRUN_2x1) is not None and check_launch(2, 4, SRUN_2x4)
    assert check_launch(1, 1, {}) is None
    assert detect_launch({**SRUN_2x4, "SLURM_JOB_NAME": "bash"}) is None  # salloc shell
    cases = [((3, 1, TORCHRUN_2x1), "torchrun started 2 node(s) but --num-nodes is 3"),
             ((1, 1, TORCHRUN_2x1), "pass --num-nodes 2, or start torchrun with --nnodes 1"),
             ((2, 1, SRUN_2x4), "srun started 4 process(es) per node but --devices is 1"),
             ((1, 4, SRUN_2x4), "srun started 2 node(s)"),
             ((2, 1, {}), "--num-nodes 2 needs one process per node")]
    for args, words in cases:
        with pytest.raises(SemantifyError, match=words.replace("(", r"\(").replace(")", r"\)")):
            check_launch(*args)
    assert check_launch(2, 1, {"NODE_RANK": "1"}) is None  # nodes started by hand


def test_num_nodes_without_a_launcher_is_one_line(tmp_path, capsys):
    code = main(["generate", "anny-body", "--samples", "4", "--clip", "none", "--num-nodes", "2",
                 "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    lines = _lines(err)
    assert code == 2 and len(lines) == 1 and "torchrun" in lines[0], err
    assert not (tmp_path / "x").exists()


HOLD_LOCK = """
import sys, time
from semantify.writer_lock import writer_lock
with writer_lock(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(120)
"""


def _generate(out: Path, samples: int = 40) -> list[str]:
    return ["generate", "anny-body", "--samples", str(samples), "--batch-size", "20", "--clip",
            "none", "--out", str(out)]


@pytest.mark.slow
def test_second_writer_is_refused_and_a_dead_writers_lock_taken_over(tmp_path, capsys):
    out = tmp_path / "data"
    # A real generate process holds the lock; a second writer on the same folder is refused.
    log = tmp_path / "first.log"
    with open(log, "w") as stderr:
        first = subprocess.Popen([sys.executable, "-m", "semantify", *_generate(out, 40000)],
                                 env=_env(), stdout=subprocess.DEVNULL, stderr=stderr,
                                 start_new_session=True)
    try:
        deadline = time.time() + 120
        while not (out / LOCK_NAME).exists() and time.time() < deadline:
            assert first.poll() is None, log.read_text()[-2000:]
            time.sleep(0.1)
        capsys.readouterr()
        code = main(_generate(out, 40000))
        second = capsys.readouterr().err
        assert first.poll() is None, "the first run ended before the second was refused"
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    lines = _lines(second)
    assert code == 2 and len(lines) == 1, second[-2000:]
    assert f"pid {first.pid} on {socket.gethostname()}" in lines[0]
    assert "being written by another semantify generate" in lines[0]
    # The killed run left its lock file behind: the next run takes it over and finishes.
    assert json.loads((out / LOCK_NAME).read_text())["pid"] == first.pid
    other = tmp_path / "other"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(other)], env=_env(),
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    holder.kill()
    holder.wait()
    assert main(_generate(other)) == 0
    assert f"took over the lock of {other} from a writer that is gone (pid {holder.pid}" \
        in capsys.readouterr().err
    assert not (other / LOCK_NAME).exists() and len(list((other / "shards").iterdir())) == 2
