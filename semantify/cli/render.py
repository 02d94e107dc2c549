"""``semantify render``: one PNG of a model's shape, views side by side."""

from __future__ import annotations



def add(subparsers) -> None:
    parser = subparsers.add_parser("render", help="render a shape of a model to a PNG")
    parser.add_argument("model", help="model id (see `semantify models`)")
    shape = parser.add_mutually_exclusive_group()
    shape.add_argument("--coeffs", metavar="P.json",
                       help="a params file (from `semantify shape --params` or the app's "
                            "export); coefficients it leaves out keep their defaults (default: "
                            "the mean shape)")
    shape.add_argument("--random", metavar="SEED", type=int,
                       help="a random shape drawn from the model's sampler with this seed")
    parser.add_argument("--views", default="front",
                        help="comma-separated views: front, side, back, three-quarter, top, "
                             "left, right or AZIMUTH:ELEVATION (default: front)")
    parser.add_argument("--size", type=int, default=512, help="pixels per view (default 512)")
    parser.add_argument("--out", required=True, metavar="FILE.png", help="output PNG")
    parser.set_defaults(run=run)


def run(args) -> int:
    import torch

    from semantify.cli.results import writable_file
    from semantify.models import load_model
    from semantify.rendering import interactive_renderer, viewer_errors
    from viewer import OrbitCamera, parse_views, save_png, side_by_side

    with viewer_errors():
        views = parse_views(args.views)
    writable_file(args.out, "--out", (".png",))
    model = load_model(args.model)
    coefficients = model.default_coefficients()
    if args.random is not None:
        coefficients = model.sample([0], seed=args.random)[0]
    elif args.coeffs:
        from semantify.params import Params

        coefficients = Params.read(args.coeffs).coefficients_for(model, args.coeffs)
    with torch.no_grad():
        vertices = model(coefficients[None])[0].cpu().numpy()
    renderer = interactive_renderer(model, size=args.size)
    try:
        with viewer_errors():
            images = [renderer.render(vertices, OrbitCamera(view.azimuth, view.elevation))
                      for view in views]
            save_png(args.out, side_by_side(images))
    finally:
        renderer.release()
    print(f"wrote {args.out} ({len(views)} view{'s' * (len(views) > 1)}, {args.size} px)")
    return 0
