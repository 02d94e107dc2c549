"""Runs across machines: which launcher started this process, and whether it agrees with the
``--num-nodes``/``--devices`` the command was given.

Lightning reads the same environment (torchrun's ``RANK``/``GROUP_RANK``/``LOCAL_WORLD_SIZE``,
SLURM's ``SLURM_NTASKS``/``SLURM_NNODES``) and builds the process group from it; checking it
first turns a mismatch, which would otherwise hang at the first collective or fail deep in
Lightning, into one line. See docs/CLUSTER.md.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping

from semantify.errors import SemantifyError

TORCHRUN_VARIABLES = ("RANK", "GROUP_RANK", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "WORLD_SIZE")
SLURM_INTERACTIVE = ("bash", "interactive")


@dataclasses.dataclass(frozen=True)
class Launch:
    """What a launcher started: ``nodes`` machines with ``per_node`` processes each."""

    launcher: str  # "torchrun" or "srun"
    nodes: int
    per_node: int
    nodes_flag: str  # the launcher's option for the node count
    per_node_flag: str


def detect_launch(environ: Mapping[str, str] | None = None) -> Launch | None:
    """The launcher behind this process (torchrun, or srun under SLURM), or None."""
    env = os.environ if environ is None else environ
    if all(name in env for name in TORCHRUN_VARIABLES):
        world, per_node = int(env["WORLD_SIZE"]), max(int(env["LOCAL_WORLD_SIZE"]), 1)
        return Launch("torchrun", -(-world // per_node), per_node, "--nnodes", "--nproc-per-node")
    if "SLURM_NTASKS" in env and env.get("SLURM_JOB_NAME") not in SLURM_INTERACTIVE:
        nodes = max(int(env.get("SLURM_NNODES", "1")), 1)
        return Launch("srun", nodes, -(-int(env["SLURM_NTASKS"]) // nodes), "--nodes",
                      "--ntasks-per-node")
    return None


def check_launch(num_nodes: int, devices: int,
                 environ: Mapping[str, str] | None = None) -> Launch | None:
    """Refuse, in one line, a --num-nodes/--devices that the launcher does not match, and
    --num-nodes above 1 without a launcher (or a hand-set NODE_RANK). Returns the launch."""
    env = os.environ if environ is None else environ
    if num_nodes < 1 or devices < 1:
        raise SemantifyError("--num-nodes and --devices must be at least 1.")
    launch = detect_launch(env)
    if launch is None:
        if num_nodes > 1 and "NODE_RANK" not in env:
            raise SemantifyError(
                f"--num-nodes {num_nodes} needs one process per node, started by a launcher; "
                f"run it under torchrun (--nnodes {num_nodes}) or srun (sbatch --nodes "
                f"{num_nodes}), as docs/CLUSTER.md shows.")
        return None
    if launch.nodes != num_nodes:
        raise SemantifyError(
            f"{launch.launcher} started {launch.nodes} node(s) but --num-nodes is {num_nodes}; "
            f"pass --num-nodes {launch.nodes}, or start {launch.launcher} with "
            f"{launch.nodes_flag} {num_nodes}.")
    if launch.per_node != devices:
        raise SemantifyError(
            f"{launch.launcher} started {launch.per_node} process(es) per node but --devices is "
            f"{devices}; pass --devices {launch.per_node}, or start {launch.launcher} with "
            f"{launch.per_node_flag} {devices}.")
    return launch
