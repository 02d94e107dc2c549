"""``semantify recipes``: the slider sets Semantify knows how to build, one recipe each."""

from __future__ import annotations

import json


def add(subparsers) -> None:
    p = subparsers.add_parser(
        "recipes", help="list the recipes `semantify build` runs",
        description="List the shipped recipes (model, words, CLIP, views, samples) and whether "
                    "their model file is here; --show prints one recipe's JSON, to copy and "
                    "edit into your own (`semantify build my-recipe.json`).")
    p.add_argument("--show", metavar="RECIPE", default=None,
                   help="print this recipe's JSON (a name or a .json file)")
    p.set_defaults(run=run)


def _model_here(recipe) -> str:
    """'yes', or which licensed file is missing (no model is loaded)."""
    from semantify.models import model_files, spec

    missing = spec(recipe.model.id).missing_file()
    if missing is None:
        return "yes"
    return f"no: needs {missing.relative_to(model_files.models_dir())}"


def run(args) -> int:
    from semantify.recipes import load_recipe, recipe_names

    if args.show:
        print(json.dumps(load_recipe(args.show).to_dict(), indent=2))
        return 0
    recipes = [load_recipe(name) for name in recipe_names()]
    print(f"{'recipe':<22} {'model':<22} {'sliders':>7} {'words':>5} {'views':<11} "
          f"{'samples':>7} {'quick':>5}  model here")
    for r in recipes:
        print(f"{r.name:<22} {r.model.label:<22} {r.descriptors:>7} {len(r.candidates):>5} "
              f"{','.join(r.views):<11} {r.samples:>7} {r.quick.samples:>5}  {_model_here(r)}")
    from semantify.models import model_files

    print(f"CLIP: {', '.join(sorted({r.clip for r in recipes}))}; licensed model files go "
          f"under {model_files.models_dir()} (see `semantify models`).")
    print("build one: semantify build RECIPE [--quick]; --show RECIPE prints its JSON.")
    return 0
