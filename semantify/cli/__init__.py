"""``semantify`` command line: one module per sub-command, each with ``add(subparsers)``.

Only the command being run gets its full parser built (some import Lightning to read their
defaults); the others are listed with the first line of their module's docstring.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from semantify import __version__
from semantify.errors import SemantifyError

COMMANDS = ("models", "recipes", "build", "render", "generate", "score", "select", "train",
            "info", "shape", "export", "fit", "text", "words", "evaluate", "measure", "app",
            "push")


def _summary(module) -> str:
    """'render a shape to a PNG' from a docstring like '``semantify render``: render ...'."""
    first = (module.__doc__ or "").strip().splitlines()[0] if module.__doc__ else ""
    return first.split(":", 1)[-1].strip().rstrip(".")


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    argv = sys.argv[1:] if argv is None else argv
    chosen = next((a for a in argv if not a.startswith("-")), None)
    parser = argparse.ArgumentParser(
        prog="semantify", description="Control 3D morphable models with words.")
    parser.add_argument("--version", action="version", version=f"semantify {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"semantify.cli.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"semantify.cli.{name}":
                raise
            continue
        if name == chosen:
            module.add(subparsers)
        else:
            subparsers.add_parser(name, help=_summary(module))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one sub-command; user errors print one line and exit with status 2."""
    args = build_parser(argv).parse_args(argv)
    try:
        code = args.run(args) or 0
        sys.stdout.flush()  # a reader that left shows here, not as an error at exit
        return code
    except SemantifyError as error:
        print(f"semantify {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"semantify {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # stdout's reader left (``| head``): stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit
        return 141  # 128 + SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
