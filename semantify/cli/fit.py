"""``semantify fit``: fit a slider set to photos (CLIP scores of the photos are its sliders)."""

from __future__ import annotations

from semantify.cli.results import add_outputs, check_outputs, check_pose, write_result


def add(subparsers) -> None:
    p = subparsers.add_parser(
        "fit", help="fit a slider set's word sliders to one or more photos",
        description="Score each photo with the set's CLIP (letterboxed whole, never "
                    "centre-cropped), average the scores, and write the shape they give. "
                    "Photos get the same checks as the app's uploads.")
    p.add_argument("photos", nargs="+", metavar="PHOTO", help="JPEG, PNG or WebP photos")
    p.add_argument("--sliders", required=True, metavar="DIR", help="slider set with words")
    p.add_argument("--crop", action="append", default=None, metavar="X,Y,W,H",
                   help="crop box in pixels of the upright photo; repeat once per photo, in "
                        "order (photos without one are used whole)")
    add_outputs(p)
    p.set_defaults(run=run)


def run(args) -> int:
    from semantify.pictures.photos import Box, read_photo
    from semantify.sets.sliders import SliderSet

    out, params = check_outputs(args)
    crops = [Box.parse(text) for text in args.crop or []]
    slider_set = SliderSet.load(args.sliders)
    pose = check_pose(slider_set, args.pose)
    photos = [read_photo(path) for path in args.photos]
    write_result(slider_set.fit_photos(photos, crops), out, params, pose, args.appearance,
                 as_json=args.json)
    return 0
