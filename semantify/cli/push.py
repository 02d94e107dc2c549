"""``semantify push``: upload a slider set to the Hugging Face Hub, with its model card."""

from __future__ import annotations


def add(subparsers) -> None:
    p = subparsers.add_parser(
        "push", help="upload a slider set to the Hugging Face Hub with its model card",
        description="Upload the slider set folder DIR to the Hub model repository OWNER/NAME "
                    "(created if new) as one commit: its JSON, safetensors, Markdown and PNG "
                    "files, and README.md with the card metadata (library, tags, CLIP base "
                    "model, the 3DMM's licence) merged in. Anyone can then use it as "
                    "hf://OWNER/NAME. Needs a token with write access (`hf auth login`).")
    p.add_argument("folder", metavar="DIR", help="slider set folder (from `semantify train`)")
    p.add_argument("repo", metavar="OWNER/NAME", help="Hub repository (hf:// optional)")
    p.add_argument("--private", action="store_true",
                   help="create the repository private (an existing one keeps its visibility)")
    p.add_argument("--revision", default=None, metavar="BRANCH",
                   help="branch to push to (created from main when new; default main)")
    p.add_argument("--dry-run", action="store_true",
                   help="list the files, their sizes and the card metadata; upload nothing")
    p.set_defaults(run=run)


def run(args) -> int:
    from semantify.sets.hub import plan_push, push

    plan = plan_push(args.folder, args.repo, private=args.private, revision=args.revision)
    if args.dry_run:
        print(plan.describe())
        print("dry run: nothing was uploaded")
        return 0
    url = push(plan)
    print(f"pushed {plan.folder} to {plan.target}: {url}")
    print(f"use it with: semantify app --sliders {plan.target}")
    return 0
