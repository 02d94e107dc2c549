"""A recipe as one build runs it: the recipe plus the command line's overrides, resolved once.

The :meth:`BuildSettings.identity` of a build is stored in its folder (``build.json``); a rerun
resumes only when its identity is the same, so a build never mixes two sets of settings.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shlex
from collections.abc import Mapping
from pathlib import Path

from semantify.errors import SemantifyError
from semantify.files import check_format, read_json, write_json_atomic
from semantify.recipes.recipe import Recipe, check_samples

FORMAT = "semantify-build"
VERSION = 1
BUILD_JSON = "build.json"  # the record in a build's folder (lightning_modules.build)
STAGES = ("generate", "select", "train", "evaluate", "card")
# Recipe entries that only describe it: editing them does not change what a build makes.
_COSMETIC = ("title", "description")


@dataclasses.dataclass(frozen=True)
class StageResult:
    """A finished stage of a build: how long it took (seconds) and its figures."""

    seconds: float

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v
                for k, v in dataclasses.asdict(self).items()}


@dataclasses.dataclass(frozen=True)
class Generated(StageResult):
    samples: int
    generated: int  # samples this run made (0 when the dataset was complete)
    samples_per_second: float | None


@dataclasses.dataclass(frozen=True)
class Selected(StageResult):
    chosen: tuple[str, ...]  # the words (and measurements) the sliders are named by
    test_r2: float
    baseline_test_r2: float

    def __post_init__(self):
        object.__setattr__(self, "chosen", tuple(self.chosen))


@dataclasses.dataclass(frozen=True)
class Trained(StageResult):
    val_vertex_mm: float
    val_r2: float
    epochs: int
    best_epoch: int | None


@dataclasses.dataclass(frozen=True)
class Evaluated(StageResult):
    vertex_mm: float
    coefficient_r2: float
    disentanglement: float


@dataclasses.dataclass(frozen=True)
class Carded(StageResult):
    file: str


STAGE_RESULTS: dict[str, type[StageResult]] = {
    "generate": Generated, "select": Selected, "train": Trained, "evaluate": Evaluated,
    "card": Carded}


@dataclasses.dataclass(frozen=True)
class BuildRecord:
    """A build folder's ``build.json``: title, the command that makes it again, the settings'
    :meth:`BuildSettings.identity`, the recipe, and each finished stage's result, in the
    order they finished."""

    title: str
    command: str
    identity: Mapping
    recipe: Mapping
    recipe_source: str = ""
    stages: Mapping[str, StageResult] = dataclasses.field(default_factory=dict)

    @property
    def finished(self) -> bool:
        """Whether every stage is done (the folder is a complete slider set)."""
        return all(stage in self.stages for stage in STAGES)

    @property
    def generated(self) -> Generated | None:
        return self.stages.get("generate")

    @property
    def selected(self) -> Selected | None:
        return self.stages.get("select")

    def with_stage(self, stage: str, result: StageResult) -> BuildRecord:
        """This record with ``stage`` done."""
        return dataclasses.replace(self, stages={**self.stages, stage: result})

    def to_dict(self) -> dict:
        return {"format": FORMAT, "version": VERSION, "title": self.title,
                "command": self.command, "identity": self.identity, "recipe": self.recipe,
                "recipe_source": self.recipe_source,
                "stages": {name: result.to_dict() for name, result in self.stages.items()}}

    @classmethod
    def from_dict(cls, record: Mapping, where: str = BUILD_JSON) -> BuildRecord:
        """The record of a :meth:`to_dict` JSON (format already checked), or one line."""
        try:
            stages = {name: STAGE_RESULTS[name](**entry)
                      for name, entry in dict(record["stages"]).items()}
            return cls(str(record["title"]), str(record.get("command", "")),
                       dict(record["identity"]), dict(record["recipe"]),
                       str(record.get("recipe_source", "")), stages)
        except (KeyError, TypeError, ValueError) as error:
            raise SemantifyError(f"{where} lacks or mistypes {error}; start the build again "
                                 "with `semantify build RECIPE` into another --out.") from None


@dataclasses.dataclass(frozen=True)
class BuildSettings:
    """What one build makes: ``recipe`` with its CLIP, sample count and training resolved."""

    recipe: Recipe
    clip: object  # semantify.clip.ClipSpec
    samples: int
    quick: bool
    training: Mapping
    seed: int = 0  # seed of the generated samples

    @classmethod
    def resolve(cls, recipe: Recipe, clip: str | None = None,
                clip_checkpoint: str | None = None, int8: bool | None = None,
                samples: int | None = None, quick: bool = False) -> BuildSettings:
        """The recipe's settings, with any of CLIP (name/tag or checkpoint), int8, the sample
        count and ``quick`` (the recipe's quick samples and training overrides) replaced."""
        from semantify.clip import ClipSpec

        spec = ClipSpec.parse(clip or (None if clip_checkpoint else recipe.clip), clip_checkpoint)
        spec = dataclasses.replace(spec, int8=recipe.int8 if int8 is None else bool(int8))
        if samples is None:
            samples = recipe.samples_for(quick)
        check_samples(samples)
        training = {**recipe.training, **(recipe.quick.training if quick else {})}
        return cls(recipe, spec, samples, bool(quick), training)

    @classmethod
    def from_record(cls, record: BuildRecord) -> BuildSettings:
        """The settings a build record (``build.json``) was made with, to resume it."""
        from semantify.clip import ClipSpec
        from semantify.recipes.recipe import recipe_from_dict

        try:
            identity = record.identity
            recipe = recipe_from_dict(identity["recipe"], record.recipe, record.recipe_source)
            settings = cls(recipe, ClipSpec.from_dict(identity["clip"]), identity["samples"],
                           identity["quick"], dict(identity["training"]), identity["seed"])
        except (KeyError, TypeError) as error:
            raise SemantifyError(f"build record lacks {error}; start the build again with "
                                 "`semantify build RECIPE`.") from None
        if settings.identity() != identity:
            raise SemantifyError("build record does not match its own recipe; start the build "
                                 "again with `semantify build RECIPE`.")
        return settings

    def record(self) -> BuildRecord:
        """A new build record: its title, command, identity, recipe, and no stage done."""
        return BuildRecord(self.title, self.command(), self.identity(), self.recipe.to_dict(),
                           self.recipe.source)

    @property
    def family(self) -> str:
        return self.recipe.family

    @property
    def title(self) -> str:
        """A readable name, e.g. ``Anny body: word sliders (ViT-B-32/random, quick)``."""
        notes = [] if self.clip.label.startswith(self.recipe.clip) else [_clip_text(self.clip)]
        if self.clip.int8 and not self.recipe.int8:
            notes.append("int8")
        if self.samples != self.recipe.samples_for(self.quick):
            notes.append(f"{self.samples} samples")
        if self.quick:
            notes.append("quick")
        return self.recipe.title + (f" ({', '.join(notes)})" if notes else "")

    def command(self) -> str:
        """The ``semantify build`` command line that makes these settings again."""
        from semantify.clip import ClipSpec

        words = ["semantify", "build", self.recipe.source]
        default = dataclasses.replace(ClipSpec.parse(self.recipe.clip), int8=self.clip.int8)
        if self.clip.checkpoint:
            words += ["--clip", self.clip.name, "--clip-checkpoint", self.clip.checkpoint]
        elif self.clip != default:
            words += ["--clip", _clip_text(self.clip)]
        if self.clip.int8 != self.recipe.int8:
            words.append("--int8" if self.clip.int8 else "--no-int8")
        if self.samples != self.recipe.samples_for(self.quick):
            words += ["--samples", str(self.samples)]
        if self.quick:
            words.append("--quick")
        return " ".join(shlex.quote(word) for word in words)

    def generation_spec(self):
        """The :class:`semantify.data.generation.GenerationSpec` of this build's dataset."""
        from semantify.data.generation import GenerationSpec

        return GenerationSpec(self.recipe.model.id, self.samples, self.seed,
                              tuple(self.recipe.views), self.clip,
                              model_options=self.recipe.model.options)

    def identity(self) -> dict:
        """Everything the built set depends on, as JSON: equal identities, equal builds."""
        recipe = {k: v for k, v in self.recipe.to_dict().items() if k not in _COSMETIC}
        return {"recipe": self.recipe.name, "definition": recipe,
                "clip": self.clip.to_dict(), "samples": self.samples, "quick": self.quick,
                "training": dict(self.training), "seed": self.seed}

    def default_out(self) -> Path:
        """Where a build goes without --out: the built sets folder (the app lists it), named
        after the recipe (``anny-body``, ``anny-body-quick``) or, for other settings or a
        recipe file, with a hash of them, never with text a user typed."""
        from semantify.paths import built_sets_dir

        quick = "-quick" if self.quick else ""
        if self.recipe.shipped and self.is_recipe_default():
            return built_sets_dir() / f"{self.recipe.name}{quick}"
        prefix = self.recipe.name if self.recipe.shipped else "recipe"
        return built_sets_dir() / f"{prefix}{quick}-{self.digest()}"

    def digest(self) -> str:
        """A short hash of :meth:`identity`, for folder names that must not collide."""
        text = json.dumps(self.identity(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:8]

    def is_recipe_default(self) -> bool:
        """Whether nothing but ``--quick`` departs from the recipe."""
        return self == BuildSettings.resolve(self.recipe, quick=self.quick)


def _clip_text(spec) -> str:
    """How ``--clip`` names ``spec``: ``tiny-random``, ``NAME/random``, ``NAME/TAG``, or the
    checkpoint's file name."""
    from semantify.clip import TINY_RANDOM, TINY_RANDOM_NAME

    if spec.checkpoint:
        return f"{spec.name} checkpoint {spec.checkpoint.rsplit('/', 1)[-1]}"
    if spec.name == TINY_RANDOM_NAME:
        return TINY_RANDOM
    if spec.is_geometry:
        return spec.name
    return f"{spec.name}/{spec.pretrained or 'random'}"


def read_record(out: Path) -> BuildRecord | None:
    """The ``build.json`` of folder ``out``, or None if it has none."""
    path = Path(out) / BUILD_JSON
    if not path.is_file():
        return None
    record = read_json(path, str(path), "delete the folder and build again")
    check_format(record, FORMAT, VERSION, str(path), "build into another --out.")
    return BuildRecord.from_dict(record, str(path))


def write_record(out: Path, record: BuildRecord) -> None:
    """Write folder ``out``'s ``build.json`` atomically."""
    write_json_atomic(Path(out) / BUILD_JSON, record.to_dict())


def is_finished(record: BuildRecord | None) -> bool:
    """Whether a build record has every stage done (its folder is a complete slider set)."""
    return record is not None and record.finished


def is_unfinished(folder: Path) -> bool:
    """Whether ``folder`` holds a readable build record with stages still to run (an
    unreadable record is no build to resume)."""
    try:
        record = read_record(folder)
    except SemantifyError:
        return False
    return record is not None and not is_finished(record)


def unfinished_builds(root: Path) -> list[Path]:
    """The folders under ``root`` with unfinished builds (:func:`is_unfinished`), oldest
    first."""
    records = sorted(Path(root).glob(f"*/{BUILD_JSON}"), key=lambda p: p.stat().st_mtime)
    return [path.parent.resolve() for path in records if is_unfinished(path.parent)]
