"""Wall time of `semantify build` on this machine, stage by stage.

    python bench/build.py [--recipe anny-body] [--clip ViT-B-32/random] [--quick]
                          [--samples N] [--views front] [--int8] [--keep DIR]

Runs the build command in a fresh process (Python start-up, imports and CLIP loading count, as
they do for a user; the weight download does not: random weights have none) into a temporary
folder, then prints each stage's seconds from its build.json, the wall time against the
issue's targets (default recipe <= 6 min, --quick <= 2 min on a 2-core laptop CPU) and the
machine's load average before and after (on a shared machine, times are pessimistic).
``--views`` and ``--int8`` build a copy of the recipe with those changed, to measure the levers.
Random weights time the real architecture; the sliders they make mean nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {False: 6 * 60, True: 2 * 60}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="anny-body")
    parser.add_argument("--clip", default="ViT-B-32/random")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--samples", type=int, default=None)
    parser.add_argument("--views", default=None, help="e.g. front or front,side")
    parser.add_argument("--int8", action="store_true")
    parser.add_argument("--keep", default=None, help="build here (kept) instead of a temp dir")
    parser.add_argument("--workers", type=int, default=None,
                        help="render processes (default: semantify's, by sample count)")
    parser.add_argument("--target", type=float, default=None,
                        help="seconds to meet (default: 6 min, or 2 min with --quick)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from semantify.recipes import load_recipe

    work = Path(args.keep or tempfile.mkdtemp(prefix="bench-build-"))
    recipe = args.recipe
    if args.views:
        data = load_recipe(recipe).to_dict()
        data["views"] = args.views.split(",")
        recipe = str(work / f"{args.recipe}-views.json")
        Path(recipe).write_text(json.dumps(data))
    out = work / "set"
    cmd = [sys.executable, "-m", "semantify", "build", recipe, "--clip", args.clip,
           "--out", str(out)] + (["--quick"] if args.quick else []) \
        + (["--int8"] if args.int8 else []) \
        + (["--samples", str(args.samples)] if args.samples else []) \
        + (["--workers", str(args.workers)] if args.workers is not None else [])
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    env.setdefault("ANNY_CACHE_DIR", str(ROOT / ".cache/anny"))
    load_before = os.getloadavg()
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (usage.ru_utime - cpu_before.ru_utime) + (usage.ru_stime - cpu_before.ru_stime)
    if result.returncode != 0:
        sys.exit(f"build failed ({result.returncode}): {result.stderr.strip()[-2000:]}")
    record = json.loads((out / "build.json").read_text())
    stages = record["stages"]
    definition = record["identity"]["definition"]
    print(f"$ {' '.join(cmd[1:])}")
    print(f"{record['title']}: {record['identity']['samples']} samples x "
          f"{len(definition['views'])} views ({', '.join(definition['views'])}), "
          f"CLIP {record['identity']['clip']['label']}, {os.cpu_count()} CPUs")
    for name, stage in stages.items():
        extra = ""
        if name == "generate" and stage.get("samples_per_second"):
            extra = f"  ({stage['samples_per_second']:.2f} samples/s)"
        if name == "train":
            extra = f"  ({stage['epochs']} epochs)"
        print(f"  {name:<9} {stage['seconds']:7.1f} s{extra}")
    inside = sum(stage["seconds"] for stage in stages.values())
    target = args.target or TARGETS[args.quick]
    print(f"  {'stages':<9} {inside:7.1f} s; start-up, imports and checks "
          f"{wall - inside:.1f} s")
    print(f"wall {wall:.1f} s = {wall / 60:.2f} min (target <= {target:.0f} s: "
          f"{'met' if wall <= target else 'NOT met'}); load average "
          f"{load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after")
    cores = os.cpu_count() or 1
    print(f"CPU time of the build's processes {cpu:.0f} s: at least {cpu / cores:.0f} s wall on "
          f"{cores} idle cores (what a shared machine's wall time overstates)")


if __name__ == "__main__":
    main()
