"""Recipes: what a slider set is built from, as small JSON files validated by one dataclass.

A recipe names the model (id and options), the candidate words and those forced in, the CLIP
(name/tag) and prompt template, the rendered views, how many samples to generate, how many
sliders to keep, and only the training settings that differ from the defaults in
``lightning_modules.train`` (whose typed signatures own them). ``quick`` holds the smaller
sample count and training overrides of ``semantify build --quick``.

The shipped recipes sit beside this module (``semantify/recipes/NAME.json``); a user's own
file is read the same way (``semantify build my-recipe.json``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

from semantify.errors import SemantifyError
from semantify.files import check_format, read_json
from semantify.models.reference import ModelRef

FORMAT = "semantify-recipe"
VERSION = 1
RECIPE_DIR = Path(__file__).parent
# The fewest samples any build takes (recipes, `semantify build --samples`, the app): below it
# the held-out split and the descriptor selection have too few rows to mean anything.
MIN_SAMPLES = 64
_KEYS = {"format", "version", "title", "description", "model", "vocabulary", "descriptors",
         "clip", "views", "samples", "training", "quick"}


def _json_value(value) -> bool:
    """Whether ``value`` is a JSON scalar or a list of them (what a training override may be)."""
    if isinstance(value, list):
        return all(_json_value(item) for item in value)
    return value is None or isinstance(value, (bool, int, float, str))


@dataclasses.dataclass(frozen=True)
class Quick:
    """What ``--quick`` changes: fewer samples and some training overrides of its own."""

    samples: int
    training: Mapping = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Recipe:
    """One slider set we would ship. ``name`` is the file's stem; the rest is its JSON."""

    name: str
    title: str
    description: str
    model: ModelRef
    candidates: tuple[str, ...]
    forced: tuple[str, ...]
    descriptors: int
    clip: str
    template: str
    int8: bool
    views: tuple[str, ...]
    samples: int
    training: Mapping
    quick: Quick
    source: str = ""  # how a command names it: the shipped name, or the file's path

    def __post_init__(self):
        from semantify.descriptors import parse_descriptors
        from semantify.descriptors.vocabulary import descriptor_key

        where = f"recipe {self.name}"
        self._expect(bool(self.candidates), "has an empty vocabulary; list candidate words")
        try:
            parse_descriptors(list(self.candidates))  # empty or duplicate words: one line
        except SemantifyError as error:
            raise SemantifyError(f"{where}: {error}") from None
        keys = {descriptor_key(word) for word in self.candidates}
        for word in self.forced:
            self._expect(descriptor_key(word) in keys,
                         f"forces {word!r}, which is not among its candidates; add it there")
        self._expect(len(set(map(descriptor_key, self.forced))) == len(self.forced),
                     "forces a word twice; list each forced word once")
        self._expect(isinstance(self.descriptors, int) and not isinstance(self.descriptors, bool)
                     and max(1, len(self.forced)) <= self.descriptors <= len(self.candidates),
                     f"asks for {self.descriptors} sliders; give between "
                     f"{max(1, len(self.forced))} and {len(self.candidates)}")
        self._expect(isinstance(self.int8, bool), "has clip.int8 that is not true or false")
        for label, count in (("samples", self.samples), ("quick.samples", self.quick.samples)):
            check_samples(count, f"{where}: {label}")
        self._expect(self.quick.samples <= self.samples,
                     "has more quick samples than samples; make quick.samples the smaller")
        for label, training in (("training", self.training),
                                ("quick.training", self.quick.training)):
            self._expect(isinstance(training, Mapping)
                         and all(isinstance(k, str) and _json_value(v)
                                 for k, v in training.items()),
                         f"{label} must map setting names to JSON values")

    def _expect(self, condition: bool, problem: str) -> None:
        if not condition:
            raise SemantifyError(f"recipe {self.name} {problem}.")

    def samples_for(self, quick: bool) -> int:
        """How many samples a build of this recipe generates (``quick``: the smaller count)."""
        return self.quick.samples if quick else self.samples

    @property
    def shipped(self) -> bool:
        """Whether this is one of the recipes that ship with Semantify."""
        return self.source == self.name and self.name in recipe_names()

    @property
    def family(self) -> str:
        from semantify.models import spec

        return spec(self.model.id).family

    def to_dict(self) -> dict:
        """The JSON form (what :func:`load_recipe` reads back)."""
        return {
            "format": FORMAT, "version": VERSION, "title": self.title,
            "description": self.description,
            "model": self.model.to_dict(),
            "vocabulary": {"candidates": list(self.candidates), "forced": list(self.forced)},
            "descriptors": self.descriptors,
            "clip": {"model": self.clip, "template": self.template, "int8": self.int8},
            "views": list(self.views), "samples": self.samples,
            "training": dict(self.training),
            "quick": {"samples": self.quick.samples, "training": dict(self.quick.training)},
        }


def check_samples(samples, what: str = "--samples") -> int:
    """``samples`` if it is a whole number of at least :data:`MIN_SAMPLES`, else one line."""
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < MIN_SAMPLES:
        raise SemantifyError(f"{what} is {samples!r}; a build needs at least {MIN_SAMPLES} "
                             "samples.")
    return samples


def recipe_names() -> list[str]:
    """Names of the shipped recipes, sorted."""
    return sorted(path.stem for path in RECIPE_DIR.glob("*.json"))


def recipe_path(name: str) -> Path:
    """The file of shipped recipe ``name``, or a one-line error listing the valid names."""
    if name not in recipe_names():
        raise SemantifyError(f"unknown recipe {name!r}; available: {', '.join(recipe_names())}"
                             ", or a recipe .json file (see `semantify recipes`).")
    return RECIPE_DIR / f"{name}.json"


def load_recipe(source: str | Path) -> Recipe:
    """A shipped recipe by name, or a recipe file (``*.json``), validated."""
    path = Path(source)
    if not (isinstance(source, Path) or str(source).endswith(".json")):
        path = recipe_path(str(source))
    if not path.is_file():
        raise SemantifyError(f"recipe file {path} does not exist; pass a shipped recipe name "
                             f"({', '.join(recipe_names())}) or an existing .json file.")
    data = read_json(path, f"recipe {path}", "fix the JSON")
    shipped = path.parent == RECIPE_DIR and path.stem in recipe_names()
    return recipe_from_dict(path.stem, data, path.stem if shipped else str(path))


def recipe_from_dict(name: str, data, source: str = "") -> Recipe:
    """Validate a recipe's JSON ``data`` (see :meth:`Recipe.to_dict`) into a :class:`Recipe`."""
    from semantify.clip import ClipSpec, template_for
    from semantify.data.generation import check_views

    where = f"recipe {name}"
    check_format(data, FORMAT, VERSION, where,
                 "start from a shipped recipe (`semantify recipes`).")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise SemantifyError(f"{where} has unknown key(s) {', '.join(unknown)}; valid keys: "
                             f"{', '.join(sorted(_KEYS))}.")
    try:
        vocabulary, clip = data["vocabulary"], data["clip"]
        quick = data["quick"]
        recipe = Recipe(
            name=name, title=str(data["title"]), description=str(data.get("description", "")),
            model=ModelRef.from_dict(data["model"], where),
            candidates=tuple(vocabulary["candidates"]),
            forced=tuple(vocabulary.get("forced") or ()),
            descriptors=data["descriptors"], clip=str(clip["model"]),
            template=str(clip["template"]), int8=clip.get("int8", False),
            views=tuple(data["views"]),
            samples=data["samples"], training=dict(data.get("training") or {}),
            quick=Quick(quick["samples"], dict(quick.get("training") or {})),
            source=source or name)
    except (KeyError, TypeError, AttributeError) as error:
        raise SemantifyError(f"{where} lacks or mistypes {error}; compare it with a shipped "
                             "recipe (`semantify recipes`).") from None
    try:
        recipe.model.check()  # an unknown model id or option: one line listing the valid ones
        ClipSpec.parse(recipe.clip)
        template_for(recipe.family, recipe.template)
        check_views(recipe.views)  # the dataset's own check, run before a build starts
    except SemantifyError as error:
        raise SemantifyError(f"{where}: {error}") from None
    return recipe


def recipes_for_model(model_id: str) -> list[Recipe]:
    """The shipped recipes that build sliders for ``model_id``."""
    return [recipe for recipe in map(load_recipe, recipe_names())
            if recipe.model.id == model_id]


def resolve(target: str) -> Recipe:
    """``target`` as a recipe name, a recipe file, or a model id with one shipped recipe."""
    if target in recipe_names() or target.endswith(".json"):
        return load_recipe(target)
    from semantify.models import spec

    try:
        spec(target)
    except SemantifyError:
        raise SemantifyError(f"unknown recipe or model {target!r}; recipes: "
                             f"{', '.join(recipe_names())}, or a recipe .json file.") from None
    found = recipes_for_model(target)
    if len(found) != 1:
        names = ", ".join(r.name for r in found)
        raise SemantifyError(
            f"model {target} has {'recipes ' + names if found else 'no shipped recipe'}; "
            + ("name one" if found else "write a recipe .json for it (copy one from "
               "`semantify recipes --show NAME`)") + ".")
    return found[0]
