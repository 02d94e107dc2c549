"""``semantify`` command line: one module per sub-command, each with ``add(subparsers)``."""

from __future__ import annotations

import argparse
import importlib
import sys

from semantify.errors import SemantifyError

COMMANDS = ("models", "render", "generate", "score", "select", "train", "shape", "evaluate",
            "measure", "app", "push")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="semantify", description="Control 3D morphable models with words.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"semantify.cli.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"semantify.cli.{name}":
                raise
            continue
        module.add(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one sub-command; user errors print one line and exit with status 2."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args) or 0
    except SemantifyError as error:
        print(f"semantify {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"semantify {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
