"""``semantify render``: a shape of a model, posed and in skin or clay, as a PNG (views side
by side) or a 360-degree turntable (.mp4 or .gif)."""

from __future__ import annotations

from pathlib import Path

from semantify.errors import SemantifyError


def add(subparsers) -> None:
    from semantify.pictures.appearance import APPEARANCES, DEFAULT_APPEARANCE

    parser = subparsers.add_parser(
        "render", help="render a shape of a model to a PNG, or a turntable MP4/GIF")
    parser.add_argument("model", help="model id (see `semantify models`)")
    shape = parser.add_mutually_exclusive_group()
    shape.add_argument("--coeffs", metavar="P.json",
                       help="a params file (from `semantify shape --params` or the app's "
                            "export); coefficients it leaves out keep their defaults (default: "
                            "the mean shape)")
    shape.add_argument("--random", metavar="SEED", type=int,
                       help="a random shape drawn from the model's sampler with this seed")
    parser.add_argument("--pose", default=None,
                        help="a pose name (rest, a-pose, t-pose, standing-relaxed, walking, "
                             "sitting, arms-crossed, head-turned, ...; a wrong name lists the "
                             "model's poses) or a pose .json file (default: the --coeffs "
                             "file's pose, else rest, the pose measurements are taken in)")
    parser.add_argument("--appearance", default=DEFAULT_APPEARANCE, choices=APPEARANCES,
                        help="skin (textured where the model has a texture) or clay "
                             f"(default: {DEFAULT_APPEARANCE})")
    parser.add_argument("--views", default="front",
                        help="comma-separated views for a PNG: front, side, back, "
                             "three-quarter, top, left, right or AZIMUTH:ELEVATION "
                             "(default: front)")
    parser.add_argument("--size", type=int, default=512, help="pixels per view (default 512)")
    parser.add_argument("--frames", type=int, default=72,
                        help="frames in a turntable's turn (default 72)")
    parser.add_argument("--fps", type=int, default=24, help="turntable frames/s (default 24)")
    parser.add_argument("--out", required=True, metavar="FILE",
                        help="output: FILE.png (the views side by side), or FILE.mp4 / "
                             "FILE.gif (a 360-degree turntable)")
    parser.set_defaults(run=run)


def run(args) -> int:
    import torch

    from semantify.cli.results import writable_file
    from semantify.models import load_model
    from semantify.pictures.appearance import check_appearance, material_for
    from semantify.pictures.renderers import framing_for, interactive_renderer, viewer_errors
    from semantify.pictures.turntable import FORMATS, check_turntable, write_turntable
    from semantify.poses import posed_vertices, resolve_pose
    from viewer import OrbitCamera, parse_views, save_png, side_by_side

    writable_file(args.out, "--out", (".png", *FORMATS))
    turntable = Path(args.out).suffix.lower() in FORMATS
    if turntable:
        check_turntable(args.out, args.frames, args.fps, args.size)
    else:
        with viewer_errors():
            views = parse_views(args.views)
    check_appearance(args.appearance)
    if args.random is not None and args.random < 0:
        raise SemantifyError(f"--random {args.random}: a seed is a whole number 0 or more.")
    model = load_model(args.model)
    pose = resolve_pose(model, args.pose or "rest")
    coefficients = model.default_coefficients()
    if args.random is not None:
        coefficients = model.sample([0], seed=args.random)[0]
    elif args.coeffs:
        from semantify.sets.params import Params

        params = Params.read(args.coeffs)
        coefficients = params.coefficients_for(model, args.coeffs)  # checks its pose, too
        if args.pose is None:
            pose = params.check(model)
    if turntable:
        write_turntable(args.out, model, coefficients, pose, args.appearance, args.size,
                        args.frames, args.fps)
        print(f"wrote {args.out} ({args.frames} frames, {args.size} px, {pose.name}, "
              f"{args.appearance})")
        return 0
    with torch.no_grad():
        vertices = posed_vertices(model, coefficients[None], pose)[0].cpu().numpy()
    material, framing = material_for(model, args.appearance), framing_for(model, pose)
    renderer = interactive_renderer(model, size=args.size)
    try:
        with viewer_errors():
            images = [renderer.render(vertices, OrbitCamera(view.azimuth, view.elevation),
                                      material=material, framing=framing) for view in views]
            save_png(args.out, side_by_side(images))
    finally:
        renderer.release()
    print(f"wrote {args.out} ({len(views)} view{'s' * (len(views) > 1)}, {args.size} px, "
          f"{pose.name}, {args.appearance})")
    return 0
