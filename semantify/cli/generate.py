"""``semantify generate``: a (coefficients, CLIP image embeddings, measurements) dataset."""

from __future__ import annotations

import json
from pathlib import Path

ACCELERATORS = ("auto", "cpu", "gpu")


def add(subparsers) -> None:
    """The defaults are :class:`semantify.data.generation.GenerationSpec`'s (their one home)."""
    from semantify.data.generation import GenerationSpec
    from semantify.pictures.appearance import APPEARANCES

    default = GenerationSpec.default
    p = subparsers.add_parser(
        "generate", help="sample, render and CLIP-encode a dataset (resumable)",
        description="Sample coefficients, render views and store CLIP image embeddings. "
                    "Rerunning the same command resumes; a kill loses at most one shard.")
    p.add_argument("model", help="model id (see `semantify models`)")
    p.add_argument("--samples", type=int, required=True, help="number of samples")
    p.add_argument("--out", required=True, help="dataset folder (new, empty, or to resume)")
    p.add_argument("--views", default=",".join(default("views")),
                   help=f"comma-separated views (default {','.join(default('views'))})")
    p.add_argument("--clip", default=None,
                   help="NAME/TAG (default ViT-B-32/laion2b_s34b_b79k), tiny-random "
                        "(NOT semantic, for tests), geometry (ground-truth TEST encoder, not "
                        "CLIP), or none (measurements only, offline)")
    p.add_argument("--clip-checkpoint", default=None, help="local open_clip weights file")
    p.add_argument("--seed", type=int, default=default("seed"))
    p.add_argument("--prior", default=None,
                   help="sampling prior: the model's own (default), reference (the reference "
                        "implementation's sampling, no rejection), a shipped prior name or a "
                        "prior .json file")
    p.add_argument("--batch-size", type=int, default=default("shard_size"),
                   help="samples per batch and shard")
    p.add_argument("--devices", type=int, default=1, help="GPUs, or CPU processes, per node")
    p.add_argument("--num-nodes", type=int, default=1,
                   help="machines, each started by torchrun or srun (see docs/CLUSTER.md)")
    p.add_argument("--accelerator", default="auto", choices=ACCELERATORS,
                   help="auto (a GPU when there is one), cpu or gpu")
    p.add_argument("--size", type=int, default=default("size"), help="render size (CLIP input)")
    p.add_argument("--thumbnails", type=int, nargs="?", const=64, default=default("thumbnails"),
                   help="also store thumbnails of this size (default 64 px)")
    p.add_argument("--no-measurements", action="store_true",
                   help="do not record body measurements")
    p.add_argument("--workers", type=int, default=None, help=workers_help())
    p.add_argument("--pose", default=default("pose"),
                   help="pose the samples are rendered in (default rest; a wrong name lists "
                        "the model's poses); measurements always come from the rest pose")
    p.add_argument("--appearance", default=default("appearance"), choices=APPEARANCES,
                   help="render samples in skin (textured renders suit CLIP) or clay "
                        f"(default {default('appearance')})")
    p.set_defaults(run=run)


def clip_spec(name: str | None, checkpoint: str | None):
    """The ClipSpec of --clip/--clip-checkpoint, loaded once to fail before any file is
    written (None for --clip none)."""
    if name is not None and name.lower() == "none":
        if checkpoint:
            from semantify.errors import SemantifyError

            raise SemantifyError("--clip none and --clip-checkpoint contradict; drop one.")
        return None
    from semantify.clip import ClipSpec, load_clip

    spec = ClipSpec.parse(name, checkpoint)
    load_clip(spec, device="cpu")  # fail now, before any file is written, if it cannot load
    return spec


def workers_help() -> str:
    """--workers' help, with the default's threshold from its one home."""
    from semantify.data.generation import RENDER_PROCESS_FROM

    return (f"render processes per device (default: 1 for {RENDER_PROCESS_FROM} samples or "
            "more, else 0: one takes seconds to start)")


def check_run_options(accelerator: str, workers: int | None = None) -> None:
    """A one-line error for --accelerator gpu on a machine where torch sees no GPU, or a
    negative --workers."""
    import torch

    from semantify.errors import SemantifyError

    if accelerator == "gpu" and not torch.cuda.is_available():
        raise SemantifyError("--accelerator gpu, but torch sees no GPU here (a CPU-only torch, "
                             "or no CUDA device); use --accelerator cpu or auto.")
    if workers is not None and workers < 0:
        raise SemantifyError(f"--workers must be 0 or more, got {workers}.")


def check_out(out: str) -> None:
    """A one-line error when --out is a file: a dataset is a folder."""
    from semantify.errors import SemantifyError

    if Path(out).exists() and not Path(out).is_dir():
        raise SemantifyError(f"--out {out} is a file; a dataset is a folder (new, empty, or one "
                             "to resume).")


def run(args) -> int:
    from lightning_modules.cluster import check_launch

    check_launch(args.num_nodes, args.devices)  # before CLIP or the model are loaded
    check_run_options(args.accelerator, args.workers)
    check_out(args.out)
    from lightning_modules.generate import generate
    from semantify.data.generation import GenerationSpec
    from semantify.writer_lock import is_rank_zero

    clip = clip_spec(args.clip, args.clip_checkpoint)
    views = tuple(v.strip() for v in args.views.split(",") if v.strip())
    spec = GenerationSpec(args.model, args.samples, args.seed, views, clip, args.size,
                          args.batch_size, args.thumbnails, not args.no_measurements,
                          prior=args.prior, pose=args.pose, appearance=args.appearance)
    summary = generate(spec, args.out, devices=args.devices, num_nodes=args.num_nodes,
                       accelerator=args.accelerator, workers=args.workers)
    if is_rank_zero():  # the other ranks of a distributed run stay quiet
        print(json.dumps(summary, indent=2))
    return 0
