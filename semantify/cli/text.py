"""``semantify text``: the shape a free-text description gives (retrieval or the mapper)."""

from __future__ import annotations

from semantify.cli.results import add_outputs, check_outputs, check_pose, write_result


def add(subparsers) -> None:
    from semantify.sets.inference import METHODS

    p = subparsers.add_parser(
        "text", help="shape from a description, e.g. 'a tall, heavy-set man'",
        description="retrieval (default): average the sliders of the dataset samples whose "
                    "images best match the text; mapper: score the text like a photo.")
    p.add_argument("prompt", help="the description, in quotes")
    p.add_argument("--sliders", required=True, metavar="DIR", help="slider set with words")
    p.add_argument("--method", choices=METHODS, default=METHODS[0])
    add_outputs(p)
    p.set_defaults(run=run)


def run(args) -> int:
    from semantify.sets.sliders import SliderSet

    out, params = check_outputs(args)
    slider_set = SliderSet.load(args.sliders)
    pose = check_pose(slider_set, args.pose)
    write_result(slider_set.from_text(args.prompt, args.method), out, params, pose,
                 args.appearance, as_json=args.json)
    return 0
