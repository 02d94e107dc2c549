"""``semantify render``: one PNG of a model's shape, views side by side."""

from __future__ import annotations

import json
import os
from pathlib import Path

from semantify.errors import SemantifyError


def add(subparsers) -> None:
    parser = subparsers.add_parser("render", help="render a shape of a model to a PNG")
    parser.add_argument("model", help="model id (see `semantify models`)")
    shape = parser.add_mutually_exclusive_group()
    shape.add_argument("--coeffs", metavar="FILE.json",
                       help='coefficients as {"coefficients": {name: value, ...}}; missing '
                            "names keep their defaults (default: the mean shape)")
    shape.add_argument("--random", metavar="SEED", type=int,
                       help="a random shape drawn from the model's sampler with this seed")
    parser.add_argument("--views", default="front",
                        help="comma-separated views: front, side, back, three-quarter, top, "
                             "left, right or AZIMUTH:ELEVATION (default: front)")
    parser.add_argument("--size", type=int, default=512, help="pixels per view (default 512)")
    parser.add_argument("--out", required=True, metavar="FILE.png", help="output PNG")
    parser.set_defaults(run=run)


def read_coefficients(path: str, model) -> dict[str, float]:
    """{name: value} from a JSON file holding a "coefficients" dict (a params file is fine)."""
    try:
        data = json.loads(Path(path).read_text())
    except OSError as error:
        raise SemantifyError(f"cannot read {path!r} ({error.strerror}); pass an existing "
                             "JSON file.") from None
    except json.JSONDecodeError as error:
        raise SemantifyError(f"{path!r} is not valid JSON ({error.msg} at line "
                             f"{error.lineno}).") from None
    values = data.get("coefficients") if isinstance(data, dict) else None
    if not isinstance(values, dict):
        raise SemantifyError(f'{path!r} must hold {{"coefficients": {{name: value, ...}}}}.')
    unknown = sorted(set(values) - set(model.coefficient_names))
    if unknown:
        raise SemantifyError(f"{model.id} has no coefficient {', '.join(unknown)}; valid names: "
                             f"{', '.join(model.coefficient_names)}.")
    bad = [name for name, value in values.items()
           if isinstance(value, bool) or not isinstance(value, (int, float))]
    if bad:
        raise SemantifyError(f"coefficient values must be numbers; check {', '.join(bad)} in "
                             f"{path!r}.")
    return {name: float(value) for name, value in values.items()}


def run(args) -> int:
    import torch

    from semantify.models import load_model
    from semantify.rendering import interactive_renderer, viewer_errors
    from viewer import OrbitCamera, parse_views, save_png, side_by_side

    with viewer_errors():
        views = parse_views(args.views)
    folder = Path(args.out).parent
    if not (folder.is_dir() and os.access(folder, os.W_OK)):
        raise SemantifyError(f"cannot write {args.out!r}: {str(folder)!r} is not a writable "
                             "folder; choose a path in an existing, writable folder.")
    model = load_model(args.model)
    coefficients = model.default_coefficients()
    if args.random is not None:
        coefficients = model.sample([0], seed=args.random)[0]
    elif args.coeffs:
        for name, value in read_coefficients(args.coeffs, model).items():
            coefficients[model.coefficient_names.index(name)] = value
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
