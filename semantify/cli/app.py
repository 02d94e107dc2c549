"""``semantify app``: the web app (the same one `python app.py` and the Space serve)."""

from __future__ import annotations

from semantify.errors import SemantifyError


def add(subparsers) -> None:
    parser = subparsers.add_parser("app", help="start the web app")
    parser.add_argument("--sliders", nargs="+", default=[], metavar="DIR",
                        help="slider set folders (or hf://OWNER/NAME) to offer besides the "
                             "shipped and built ones")
    parser.add_argument("--port", type=int, default=None,
                        help="port to serve on (default: 7860 or the next free one)")
    parser.add_argument("--share", action="store_true",
                        help="also serve through a temporary public gradio.live link")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--public", action="store_true", default=None,
                      help="strangers visit: limit training jobs per visitor (on by default "
                           "on a Hugging Face Space)")
    mode.add_argument("--private", action="store_false", dest="public",
                      help="not public, even on a Space")
    parser.add_argument("--auth", default=None, metavar="USER:PASS",
                        help="ask every visitor for this user name and password")
    parser.set_defaults(run=run)


def parse_auth(text: str | None) -> tuple[str, str] | None:
    if text is None:
        return None
    user, sep, password = text.partition(":")
    if not sep or not user or not password:
        raise SemantifyError("--auth must be USER:PASS, both non-empty.")
    return user, password


def run(args) -> int:
    from semantify.app import AppConfig, build_app, launch
    from semantify.sets.hub import resolve_slider_set
    from semantify.sets.slider_files import is_slider_set

    for text in args.sliders:  # hf:// sets are downloaded into the Hub cache here, once
        if not is_slider_set(resolve_slider_set(text)):
            raise SemantifyError(f"{text} is not a slider set (no sliders.json); pass a folder "
                                 "written by `semantify train`, or hf://OWNER/NAME.")
    auth = parse_auth(args.auth)
    config = AppConfig.create(args.sliders, args.public)
    launch(build_app(config), port=args.port, share=args.share, auth=auth)
    return 0
