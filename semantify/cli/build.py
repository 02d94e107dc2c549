"""``semantify build``: word sliders from a recipe in one command (resumable)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from semantify.cli.generate import ACCELERATORS, check_run_options, workers_help
from semantify.writer_lock import FolderBusy, is_rank_zero


def add(subparsers) -> None:
    p = subparsers.add_parser(
        "build", help="build a slider set from a recipe: generate, select, train, evaluate",
        description="Run a recipe (see `semantify recipes`) end to end: generate a dataset, "
                    "select the words, train the sliders, evaluate them and write a model card "
                    "(README.md). Rerunning the same command resumes where it stopped, also "
                    "after a kill; other settings into the same --out are refused.",
        epilog=f"Exit status: 0 built (or already built); 2 a user error, told in one line on "
               f"stderr; {FolderBusy.EXIT_CODE} another process is building into the same "
               "folder (nothing was done: wait for it, or try again later).")
    p.add_argument("target", metavar="RECIPE|MODEL", nargs="?",
                   help="a recipe name, a recipe .json file, or a model id with one recipe")
    p.add_argument("--resume", metavar="DIR", default=None,
                   help="finish the build in DIR with the settings it was started with")
    p.add_argument("--out", default=None,
                   help="slider set folder (default: the built sets folder under "
                        "$SEMANTIFY_CACHE_DIR/sliders, where the app finds it)")
    p.add_argument("--clip", default=None,
                   help="CLIP NAME/TAG instead of the recipe's; NAME/random or tiny-random time "
                        "the pipeline with random weights (NOT semantic); geometry is the "
                        "ground-truth TEST encoder (not CLIP: words measure the silhouette)")
    p.add_argument("--clip-checkpoint", default=None,
                   help="local open_clip weights file or folder (works offline)")
    p.add_argument("--int8", action=argparse.BooleanOptionalAction, default=None,
                   help="run CLIP's image tower in dynamic int8 on CPU (default: the recipe's)")
    p.add_argument("--samples", type=int, default=None,
                   help="samples to generate (default: the recipe's, or its quick count)")
    p.add_argument("--quick", action="store_true",
                   help="the recipe's quick settings: fewer samples, shorter training")
    p.add_argument("--devices", type=int, default=1, help="GPUs, or CPU processes, to generate")
    p.add_argument("--accelerator", default="auto", choices=ACCELERATORS,
                   help="auto, cpu or gpu (generation)")
    p.add_argument("--workers", type=int, default=None, help=workers_help())
    p.set_defaults(run=run)


class TerminalProgress:
    """Progress lines on stderr: rewritten in place on a terminal, else one every few seconds
    and at each new stage."""

    def __init__(self, stream=None, every: float = 5.0):
        self.stream, self.every = stream or sys.stderr, every
        self.tty = self.stream.isatty()
        self.last, self.stage = 0.0, None

    def __call__(self, progress) -> None:
        now = time.monotonic()
        new_stage = progress.stage != self.stage
        if not (self.tty or new_stage or now - self.last >= self.every or progress.done >= 1):
            return
        end = "\n" if new_stage and self.stage is not None else ""  # keep the last stage's line
        self.last, self.stage = now, progress.stage
        if self.tty:
            self.stream.write(f"{end}\r\033[K{progress.line()}")
        else:
            self.stream.write(progress.line() + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self.stage is not None:
            self.stream.write("\n")


def run(args) -> int:
    import json

    from lightning_modules.build import build
    from semantify.errors import SemantifyError
    from semantify.recipes import BuildSettings, resolve

    if args.devices < 1:
        raise SemantifyError(f"--devices must be at least 1, got {args.devices}.")
    check_run_options(args.accelerator, args.workers)
    if args.resume:
        from lightning_modules.build import read_record

        if args.target or args.out:
            raise SemantifyError("--resume DIR takes the recipe and settings from DIR; drop "
                                 "RECIPE and --out (or drop --resume).")
        record = read_record(Path(args.resume))
        if record is None:
            raise SemantifyError(f"{args.resume} holds no build to resume; start one with "
                                 "`semantify build RECIPE --out DIR`.")
        settings, out = BuildSettings.from_record(record), Path(args.resume)
    elif args.target:
        settings = BuildSettings.resolve(resolve(args.target), args.clip, args.clip_checkpoint,
                                         args.int8, args.samples, args.quick)
        out = Path(args.out) if args.out else settings.default_out()
    else:
        raise SemantifyError("name a recipe (see `semantify recipes`) or --resume DIR.")
    progress = TerminalProgress()
    started = time.perf_counter()
    try:
        record = build(settings, out, devices=args.devices, accelerator=args.accelerator,
                       report=progress, workers=args.workers)
    except FolderBusy as error:  # not a failure: the caller may wait and run it again
        print(f"semantify build: error: {error}", file=sys.stderr)
        return FolderBusy.EXIT_CODE
    finally:
        progress.close()
    if record is None or not is_rank_zero():
        return 0  # another rank of a distributed run: it only generated
    stages = {name: result.seconds for name, result in record.stages.items()}
    print(json.dumps({"slider_set": str(out), "title": record.title,
                      "sliders": list(record.selected.chosen),
                      "stage_seconds": stages,
                      "wall_seconds": round(time.perf_counter() - started, 1)}, indent=2))
    return 0
