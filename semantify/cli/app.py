"""``semantify app``: the web app (the same one `python app.py` and the Space serve)."""

from __future__ import annotations

from pathlib import Path

from semantify.errors import SemantifyError


def add(subparsers) -> None:
    parser = subparsers.add_parser("app", help="start the web app")
    parser.add_argument("--sliders", nargs="+", default=[], metavar="DIR",
                        help="slider set folders to offer besides the shipped and built ones")
    parser.add_argument("--port", type=int, default=None,
                        help="port to serve on (default: 7860 or the next free one)")
    parser.add_argument("--share", action="store_true",
                        help="also serve through a temporary public gradio.live link")
    parser.set_defaults(run=run)


def run(args) -> int:
    for folder in args.sliders:
        if not (Path(folder) / "sliders.json").is_file():
            raise SemantifyError(f"{folder} is not a slider set (no sliders.json); pass a folder "
                                 "written by `semantify train`.")
    from semantify.app import build_app, launch

    launch(build_app(args.sliders), port=args.port, share=args.share)
    return 0
