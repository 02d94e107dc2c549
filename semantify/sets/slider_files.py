"""A slider set on disk: one portable folder, checked field by field when it is read.

Layout::

    DIR/sliders.json         format and version, model (id, options, coefficient names),
                             sliders (name, range, default), template, CLIP spec, mapper sizes
                             and the weights' sha256, dataset pointer, training, refinement,
                             and ``sha256``: the hash of everything above (so of the weights too)
    DIR/mapper-HASH.safetensors  the mapper's weights and standardisation (no pickle)
    DIR/photo_views-HASH.safetensors  its bodies photographed front and side, for photo fits
                             (semantify.sets.photo_views; sets with words, from this version)
    DIR/metrics.json         training metrics
    DIR/selection/           the descriptor selection report, when training was given one

Other files (a model card, evaluation pictures, a dataset folder) may sit beside them and are
kept when the set is saved again. Reading checks every field against :mod:`semantify.limits`
before anything is allocated, and refuses a set whose hash does not match (edited or partly
copied). Version 1 sets (hash of the weights only) still load.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
from collections.abc import Mapping
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from semantify import limits
from semantify.errors import SemantifyError
from semantify.files import (new_folder_beside, read_json, swap_folder, write_atomic, write_failure,
                             write_json_atomic)
from semantify.models.reference import ModelRef
from semantify.recipes.settings import BUILD_JSON
from semantify.sets.mapper import Mapper
from semantify.sets.sliders import Refine, Slider, TrainedSliders

FORMAT = "semantify-sliders"
VERSION = 2
SLIDERS_JSON = "sliders.json"
WEIGHTS = "mapper.safetensors"
METRICS_JSON = "metrics.json"
SELECTION_DIR = "selection"
WEIGHT_NAME = re.compile(r"mapper(-[0-9a-f]{12})?\.safetensors")
PHOTO_VIEWS_NAME = re.compile(r"photo_views-[0-9a-f]{12}\.safetensors")


def is_slider_set(folder: Path) -> bool:
    return (Path(folder) / SLIDERS_JSON).is_file()


# -- reading ----------------------------------------------------------------------------------

class _Check:
    """Field checks for one sliders.json; every failure is one line naming the set."""

    def __init__(self, root: Path):
        self.name = root.name

    def fail(self, what: str):
        raise SemantifyError(f"slider set {self.name!r} is invalid ({what}); rebuild it or copy "
                             "the whole folder again.")

    def number(self, value, what: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(
                value) or abs(value) > limits.MAX_ABS_VALUE:
            self.fail(f"{what} is not a finite number below {limits.MAX_ABS_VALUE:g}")
        return float(value)

    def integer(self, value, what: str, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.fail(f"{what} must be an integer from {low} to {high}")
        return value

    def text(self, value, what: str, limit: int = limits.MAX_NAME_CHARS) -> str:
        if not isinstance(value, str) or not value or len(value) > limit:
            self.fail(f"{what} must be text of 1 to {limit} characters")
        return value

    def listing(self, value, what: str, limit: int) -> list:
        if not isinstance(value, list) or len(value) > limit:
            self.fail(f"{what} must be a list of at most {limit} entries")
        return value

    def mapping(self, value, what: str) -> Mapping:
        if not isinstance(value, Mapping):
            self.fail(f"{what} must be an object")
        return value


def load(root: Path) -> TrainedSliders:
    """The slider set in ``root``, or a one-line error (missing, damaged, tampered, invalid)."""
    root = Path(root)
    if not root.is_dir():
        raise SemantifyError(f"slider set {root} does not exist; pass a folder written by "
                             "`semantify train` or `semantify build`.")
    if not (root / SLIDERS_JSON).is_file():
        raise SemantifyError(f"{root} is not a slider set (no {SLIDERS_JSON}); pass a folder "
                             "written by `semantify train` or `semantify build`.")
    manifest = read_json(root / SLIDERS_JSON, f"{root / SLIDERS_JSON}",
                         "rebuild the slider set")
    check = _Check(root)
    manifest = check.mapping(manifest, SLIDERS_JSON)
    if manifest.get("format") != FORMAT:
        check.fail(f"{SLIDERS_JSON} is not a {FORMAT} file")
    version = manifest.get("version")
    if version not in (1, VERSION):
        if isinstance(version, int) and version > VERSION:
            raise SemantifyError(f"slider set {root.name!r} is format version {version}, newer "
                                 f"than this Semantify reads ({VERSION}); update Semantify.")
        check.fail(f"unknown format version {version!r}")
    if version == VERSION and manifest.get("sha256") != manifest_hash(manifest):
        raise SemantifyError(f"slider set {root.name!r} does not match its recorded sha256 "
                             "(edited or partly copied); copy the whole folder again or rebuild.")
    model_record = check.mapping(manifest.get("model"), "model")
    model_ref = ModelRef.from_dict(model_record, f"slider set {root.name!r}")
    coefficient_names = _coefficient_names(check, model_record, version)
    sliders = _sliders(check, manifest, version)
    mapper_record = check.mapping(manifest.get("mapper"), "mapper")
    hidden = [check.integer(h, "mapper hidden width", 1, limits.MAX_HIDDEN_WIDTH)
              for h in check.listing(mapper_record.get("hidden"), "mapper hidden widths",
                                     limits.MAX_HIDDEN_LAYERS)]
    sizes = [len(sliders), *hidden, len(coefficient_names)]
    if sum((a + 1) * b for a, b in zip(sizes, sizes[1:])) > limits.MAX_MAPPER_PARAMETERS:
        check.fail(f"a mapper of sizes {sizes} is larger than "
                   f"{limits.MAX_MAPPER_PARAMETERS:,} weights")
    mapper = _read_mapper(check, root, mapper_record, len(sliders), hidden,
                          len(coefficient_names))
    if version == 1:
        _check_v1_statistics(check, manifest, mapper)
    template = manifest.get("template")
    if template is not None and (check.text(template, "template", 400).count("{}") != 1):
        check.fail("template must contain {} exactly once")
    return TrainedSliders(
        root.name, sliders, model_ref, mapper, coefficient_names,
        _clip(check, manifest.get("clip")), template, _dataset(check, root, manifest),
        _training(check, manifest.get("training")), _refine(check, manifest.get("refine"),
                                                            coefficient_names), root,
        _coupling(check, manifest.get("coupling"), sliders),
        _body_model(check, manifest.get("body_model"), sliders, coefficient_names),
        _word_scale(check, manifest.get("word_scale"), sliders),
        _photo_views(check, root, manifest.get("photo_views")))


def _word_scale(check: _Check, record, sliders: list[Slider]):
    """The percentiles of the word sliders (semantify.sets.word_scale), checked, or None (a set
    trained before word sliders ran 0-100: raw scores)."""
    if record is None:
        return None
    from semantify.sets.word_scale import HIGH, LOW, POINTS, WordScale

    words = check.mapping(check.mapping(record, "word_scale").get("words"), "word_scale words")
    by_name = {s.name: s for s in sliders}
    for name, row in words.items():
        slider = by_name.get(name)
        if slider is None or slider.measurement is not None:
            check.fail(f"word_scale names {str(name)[:40]!r}, which is not a word slider")
        if (slider.low, slider.high) != (LOW, HIGH):
            check.fail(f"word slider {name!r} has a word scale but runs "
                       f"{slider.low:g}-{slider.high:g}, not {LOW:g}-{HIGH:g}")
        if len(check.listing(row, f"percentiles of {name!r}", POINTS)) != POINTS:
            check.fail(f"word_scale of {name!r} must hold {POINTS} numbers")
        for v in row:
            check.number(v, f"a percentile of {name!r}")
    return WordScale.from_dict(record)


def _photo_views(check: _Check, root: Path, record):
    """The set's photographed bodies (semantify.sets.photo_views), checked, or None (a set
    trained before them, or without words)."""
    if record is None:
        return None
    from semantify.sets.photo_views import BODIES, VIEWS, PhotoViews

    record = check.mapping(record, "photo_views")
    views = check.listing(record.get("views"), "photo_views views", len(VIEWS))
    if not views or any(view not in VIEWS for view in views) or len(set(views)) != len(views):
        check.fail(f"photo_views views must be some of {', '.join(VIEWS)}")
    trained = check.listing(record.get("trained_views"), "photo_views trained_views",
                            limits.MAX_CAMERA_VIEWS)
    if not trained or not all(isinstance(view, str) and len(view) <= limits.MAX_NAME_CHARS
                              for view in trained):
        check.fail("photo_views trained_views must name the views the set was trained on")
    bodies = check.integer(record.get("bodies"), "photo_views bodies", 2, BODIES)
    name, tensors = _read_hashed(
        check, root, record, PHOTO_VIEWS_NAME, "photo_views-HASH.safetensors",
        2 * bodies * (len(views) + 1) * limits.MAX_EMBED_DIM, f"{bodies} photographed bodies")
    views = PhotoViews.from_tensors(views, trained, tensors)
    if len(views.photos) != bodies:
        check.fail(f"{name} holds {len(views.photos)} bodies, not {bodies}")
    return views


def _coefficient_names(check: _Check, model: Mapping, version: int) -> list[str]:
    entries = check.listing(model.get("coefficients"), "model coefficients",
                            limits.MAX_COEFFICIENTS)
    if version == 1:  # [{"name", "low", "high"}]
        entries = [check.mapping(e, "model coefficient").get("name") for e in entries]
    names = [check.text(name, "a coefficient name") for name in entries]
    if not names or len(set(names)) != len(names):
        check.fail("model coefficients must be distinct names")
    return names


def _sliders(check: _Check, manifest: Mapping, version: int) -> list[Slider]:
    entries = check.listing(manifest.get("sliders"), "sliders", limits.MAX_SLIDERS)
    sliders = []
    for entry in entries:
        entry = check.mapping(entry, "a slider")
        name = check.text(entry.get("name"), "a slider name")
        low, high, default = (check.number(entry.get(k), f"slider {name[:40]!r} {k}")
                              for k in ("low", "high", "default"))
        if not low < high or not low <= default <= high:
            check.fail(f"slider {name[:40]!r} needs low < high with the default between them")
        sliders.append(Slider.readable(name, low, high, default) if version == 1
                       else Slider(name, low, high, default))  # version 2 stores them rounded
    if not sliders or len({s.name for s in sliders}) != len(sliders):
        check.fail("sliders must be distinct names, at least one")
    if version == 1 and manifest.get("descriptors") != [s.name for s in sliders]:
        check.fail("sliders and descriptors disagree")
    return sliders


def _read_mapper(check: _Check, root: Path, record: Mapping, inputs: int, hidden: list[int],
                 outputs: int) -> Mapper:
    """The weights, checked against their sha256 and the sizes before they are used."""
    parameters = sum((a + 1) * b for a, b in zip([inputs, *hidden], [*hidden, outputs]))
    name, tensors = _read_hashed(check, root, {"file": WEIGHTS, **record}, WEIGHT_NAME,
                                 "mapper*.safetensors", 4 * (parameters + 2 * (inputs + outputs)),
                                 "a mapper of these sizes")
    mapper = Mapper(inputs, outputs, hidden)
    expected = {k: tuple(v.shape) for k, v in mapper.state_dict().items()}
    if {k: tuple(v.shape) for k, v in tensors.items()} != expected:
        check.fail(f"{name} holds tensors of the wrong names or shapes")
    if not all(torch.isfinite(v).all() for v in tensors.values()) or not (
            tensors["in_std"] > 0).all() or not (tensors["out_std"] > 0).all():
        check.fail(f"{name} holds NaN, inf or non-positive deviations")
    mapper.load_state_dict(tensors)
    return mapper.eval()


def _read_hashed(check: _Check, root: Path, record: Mapping, pattern: re.Pattern, kind: str,
                 most: int, what: str) -> tuple[str, dict]:
    """(name, tensors) of the safetensors file ``record`` names inside the set: a ``kind``
    name, at most ``most`` bytes (plus a header's 1 MB), matching its recorded sha256."""
    name = record.get("file")
    if not isinstance(name, str) or not pattern.fullmatch(name):
        check.fail(f"a file it names must be a {kind} name inside the set")
    path = root / name
    if not path.is_file():
        raise SemantifyError(f"slider set {root.name!r} is missing {name}; copy the whole "
                             "folder again or rebuild it.")
    if path.stat().st_size > most + 1_000_000:
        check.fail(f"{name} is larger than {what} can be")
    if file_sha256(path) != record.get("sha256"):
        raise SemantifyError(f"{name} of slider set {root.name!r} does not match its sha256 "
                             "(tampered or partly copied); copy the whole folder again or "
                             "rebuild it.")
    try:
        return name, load_file(path)
    except Exception as error:  # noqa: BLE001 - safetensors raises several types
        check.fail(f"{name} is unreadable: {str(error)[:80]}")


def _check_v1_statistics(check: _Check, manifest: Mapping, mapper: Mapper) -> None:
    """Version 1 repeated the standardisation in the JSON; it must agree with the weights."""
    for key, prefix in (("inputs", "in"), ("outputs", "out")):
        stats = check.mapping(manifest.get(key), key)
        for stat in ("mean", "std"):
            values = [check.number(v, f"{key} {stat}")
                      for v in check.listing(stats.get(stat), f"{key} {stat}",
                                             limits.MAX_COEFFICIENTS)]
            if not torch.equal(torch.tensor(values, dtype=torch.float32),
                               getattr(mapper, f"{prefix}_{stat}")):
                check.fail(f"{key} {stat} disagree with the weights")


def _clip(check: _Check, record):
    if record is None:
        return None
    from semantify.clip import ClipSpec

    record = check.mapping(record, "clip")
    for key in ("pretrained", "checkpoint"):
        if record.get(key) is not None:
            check.text(record[key], f"clip {key}", 1000)
    return ClipSpec.from_dict({"name": check.text(record.get("name"), "clip name"),
                               "pretrained": record.get("pretrained"),
                               "checkpoint": record.get("checkpoint"),
                               "checkpoint_sha256": record.get("checkpoint_sha256"),
                               "lexicon_sha256": record.get("lexicon_sha256")})


def _dataset(check: _Check, root: Path, manifest: Mapping) -> Path | None:
    pointer = manifest.get("dataset")
    if pointer is None:
        return None
    pointer = check.text(pointer, "dataset", 4096)
    return Path(os.path.normpath(root / pointer)) if not Path(pointer).is_absolute() \
        else Path(pointer)


def _training(check: _Check, record) -> dict:
    record = {} if record is None else dict(check.mapping(record, "training"))
    if "val_fraction" in record and not 0 < check.number(record["val_fraction"],
                                                         "training val_fraction") < 1:
        check.fail("training val_fraction must be between 0 and 1")
    if "seed" in record:
        check.integer(record["seed"], "training seed", 0, 2**63 - 1)
    return record


def _coupling(check: _Check, record, sliders: list[Slider]):
    """The bands of the measurement sliders (semantify.sets.coupling), checked, or None."""
    if record is None:
        return None
    from semantify.sets.coupling import Coupling

    record = check.mapping(record, "coupling")
    metric = [s.name for s in sliders if s.measurement is not None]
    names = tuple(check.text(n, "a coupled slider")
                  for n in check.listing(record.get("names"), "coupling names", len(metric)))
    if len(names) < 2 or list(names) != [n for n in metric if n in names]:
        check.fail("coupling names must be two or more measurement sliders, in set order")
    m = len(names)

    def numbers(key) -> tuple[float, ...]:
        values = check.listing(record.get(key), f"coupling {key}", m)
        if len(values) != m:
            check.fail(f"coupling {key} must hold {m} numbers")
        return tuple(check.number(v, f"coupling {key}") for v in values)

    rows = check.listing(record.get("weights"), "coupling weights", m)
    weights = []
    for row in rows:
        row = check.listing(row, "a coupling weights row", m)
        if len(row) != m:
            check.fail(f"coupling weights must be {m} x {m}")
        weights.append(tuple(check.number(v, "a coupling weight") for v in row))
    if len(weights) != m:
        check.fail(f"coupling weights must be {m} x {m}")
    low, high = numbers("low"), numbers("high")
    if any(lo > hi for lo, hi in zip(low, high)):
        check.fail("coupling bands need low <= high")
    return Coupling(names, numbers("intercept"), tuple(weights), low, high)


def _body_model(check: _Check, record, sliders: list[Slider], coefficient_names: list[str]):
    """The Gaussian over measurements and coefficients that free sliders follow
    (semantify.measurements.conditional), checked, or None."""
    if record is None:
        return None
    from semantify.measurements.conditional import BodyModel, phenotype
    from semantify.measurements.registry import MEASUREMENTS

    record = check.mapping(record, "body_model")
    size = len(MEASUREMENTS) + len(coefficient_names)
    names = [check.text(n, "a body model name")
             for n in check.listing(record.get("names"), "body model names", size)]
    if [n for n in names if n not in MEASUREMENTS] != coefficient_names:
        check.fail("body model names must be measurements, then the model's coefficients")
    for slider in sliders:
        build = phenotype(slider.name)
        if (build.coefficient if build else slider.name) not in names:
            check.fail(f"the body model has no variable for slider {slider.name!r}")
    mean = [check.number(v, "a body model mean")
            for v in check.listing(record.get("mean"), "body model mean", size)]
    rows = check.listing(record.get("covariance"), "body model covariance", size)
    covariance = [[check.number(v, "a body model covariance")
                   for v in check.listing(row, "a body model covariance row", size)]
                  for row in rows]
    try:
        return BodyModel(tuple(names), torch.tensor(mean, dtype=torch.float64),
                         torch.tensor(covariance, dtype=torch.float64))
    except (SemantifyError, ValueError, RuntimeError):
        check.fail("the body model's numbers do not make a Gaussian")


def _refine(check: _Check, record, coefficient_names: list[str]) -> Refine:
    if record is None:
        return Refine()
    record = check.mapping(record, "refine")
    iterations = check.integer(record.get("iterations", Refine.iterations), "refine iterations",
                               0, limits.MAX_REFINE_ITERATIONS)
    free = record.get("free")
    if free is not None:
        free = tuple(check.text(n, "a refine coefficient")
                     for n in check.listing(free, "refine free", len(coefficient_names)))
        if not set(free) <= set(coefficient_names):
            check.fail("refine names a coefficient the model does not have")
    return Refine(iterations, free)


# -- hashing ----------------------------------------------------------------------------------

def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest_hash(manifest: Mapping) -> str:
    """sha256 of the manifest without its own ``sha256`` field (canonical JSON); the mapper's
    sha256 is inside, so this covers the weights too."""
    body = {k: v for k, v in manifest.items() if k != "sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
                          ).hexdigest()


# -- writing ----------------------------------------------------------------------------------

def save(slider_set: TrainedSliders, root: Path, metrics: Mapping | None = None,
         selection: Path | str | None = None) -> Path:
    """Write ``slider_set`` into folder ``root`` so that a kill at any moment leaves the old set
    or the new one, whole. A new set is built in a folder beside ``root`` and renamed into
    place. Over an existing set, the weights go to a new file named by their hash and the set
    switches to them with the one rename of ``sliders.json``; old weights are deleted after.
    Other files in ``root`` (a dataset, a model card) stay."""
    root = check_target(root, selection)
    try:
        if root.is_dir():
            _write(slider_set, root, root, metrics, selection)
        else:
            built = new_folder_beside(root)
            try:
                _write(slider_set, built, root, metrics, selection)
                os.rename(built, root)
            finally:
                shutil.rmtree(built, ignore_errors=True)
    except OSError as error:
        raise SemantifyError(f"cannot write slider set {root}: {write_failure(error)}.") from None
    slider_set.root, slider_set.name = root, root.name
    return root


def check_target(root: Path | str, selection: Path | str | None = None) -> Path:
    """``root`` if a slider set can be written there (a new or empty folder, a slider set to
    replace, or a build's folder) with the ``selection`` report, else a one-line error; called
    before training, too."""
    root = Path(root)
    if selection is not None and not Path(selection).exists():
        raise SemantifyError(f"selection report {selection} does not exist; pass the folder "
                             "written by `semantify select`, or leave it out.")
    if root.exists() and not root.is_dir():
        raise SemantifyError(f"{root} is a file; choose a folder for the slider set.")
    if root.is_dir() and any(root.iterdir()) and not is_slider_set(root) \
            and not (root / BUILD_JSON).is_file():  # a build's folder becomes its slider set
        raise SemantifyError(f"{root} holds other files and no slider set; choose an empty or "
                             "new folder, or a slider set to replace.")
    existing = root.parent
    while not existing.exists():
        existing = existing.parent
    try:  # the set is built beside root: try it (write permission alone misleads root users)
        new_folder_beside(existing / root.name).rmdir()
    except OSError as error:
        raise SemantifyError(f"cannot write slider set {root}: {write_failure(error)}.") from None
    return root


def _write(slider_set: TrainedSliders, folder: Path, root: Path, metrics, selection) -> None:
    """Write the set's files into ``folder`` (which becomes ``root``); ``sliders.json`` last."""
    mapper = slider_set.mapper
    tensors = {k: v.detach().cpu().contiguous() for k, v in mapper.state_dict().items()}
    weights, digest = _hashed_file(folder, "mapper", tensors, {"format": FORMAT})
    if metrics is not None:
        write_json_atomic(folder / METRICS_JSON, dict(metrics))
    if selection is not None:
        _copy_selection(Path(selection), folder)
    refine = slider_set.refine
    manifest = {
        "format": FORMAT, "version": VERSION,
        "model": {**slider_set.model_ref.to_dict(), "family": slider_set.model.family,
                  "coefficients": list(slider_set.coefficient_names)},
        "sliders": [{"name": s.name, "low": s.low, "high": s.high, "default": s.default}
                    for s in slider_set.sliders],
        "template": slider_set.template,
        "clip": None if slider_set.clip is None else slider_set.clip.to_dict(),
        "mapper": {"hidden": list(mapper.hidden), "file": weights, "sha256": digest},
        "dataset": dataset_pointer(slider_set.dataset, root),
        "training": slider_set.training,
        "refine": ({"iterations": refine.iterations,
                    "free": None if refine.free is None else list(refine.free)}
                   if slider_set.metric_names else None),
        "coupling": None if slider_set.coupling is None else slider_set.coupling.to_dict(),
    }
    if slider_set.body_model is not None:  # absent otherwise: older sets keep their hash
        manifest["body_model"] = slider_set.body_model.to_dict()
    if slider_set.word_scale is not None:  # the same: sets in raw score units have none
        manifest["word_scale"] = slider_set.word_scale.to_dict()
    if slider_set.photo_views is not None:  # the same: sets before it photographed nothing
        manifest["photo_views"] = _write_photo_views(slider_set.photo_views, folder)
    manifest["sha256"] = manifest_hash(manifest)
    write_json_atomic(folder / SLIDERS_JSON, manifest)  # the switch to the new set
    kept = {weights, manifest.get("photo_views", {}).get("file")}
    for old in [*folder.glob("mapper*.safetensors"), *folder.glob("photo_views*.safetensors")]:
        if old.name not in kept:
            old.unlink(missing_ok=True)


def _hashed_file(folder: Path, stem: str, tensors: dict, metadata: dict) -> tuple[str, str]:
    """Write ``tensors`` to ``folder/STEM-HASH.safetensors`` atomically; (name, sha256)."""
    staging = folder / f".{stem}.safetensors.tmp"
    write_atomic(staging, lambda tmp: save_file(tensors, tmp, metadata))
    digest = file_sha256(staging)
    name = f"{stem}-{digest[:12]}.safetensors"
    os.replace(staging, folder / name)
    return name, digest


def _write_photo_views(views, folder: Path) -> dict:
    name, digest = _hashed_file(folder, "photo_views", views.to_tensors(), {"format": FORMAT})
    return {"file": name, "sha256": digest, "views": list(views.views),
            "trained_views": list(views.trained_views), "bodies": len(views.photos)}


def _copy_selection(selection: Path, folder: Path) -> None:
    copy = new_folder_beside(folder / SELECTION_DIR)
    if selection.is_dir():
        shutil.copytree(selection, copy, dirs_exist_ok=True)
    else:
        shutil.copy2(selection, copy / selection.name)
    swap_folder(copy, folder / SELECTION_DIR)


def dataset_pointer(dataset: Path | None, root: Path) -> str | None:
    """The dataset path relative to the set folder when both sit in one project (they share
    the set's grandparent folder: ``sliders/NAME`` and ``data/NAME``), else absolute."""
    if dataset is None:
        return None
    dataset, root = Path(dataset).resolve(), Path(root).resolve()
    if dataset.is_relative_to(root.parent.parent):
        return os.path.relpath(dataset, root)
    return str(dataset)
