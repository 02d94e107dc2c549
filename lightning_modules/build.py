"""A slider set in one go: generate -> select -> train -> evaluate -> model card, resumable.

Everything lands in one folder, which is the slider set when the build is done::

    OUT/build.json        the settings' identity, and each finished stage with its figures
    OUT/dataset/          generate (one atomic file per shard; resumes shard by shard)
    OUT/selection/        select (written beside, then renamed into place)
    OUT/sliders.json ...  train (the slider set files)
    OUT/evaluation/       evaluate (written beside, then renamed into place)
    OUT/README.md         the model card

A stage counts as done only once ``build.json`` (rewritten atomically) says so, after its
output is complete; a rerun, also after kill -9, skips done stages and redoes the one that was
cut off. A failed stage leaves the earlier ones as they were. A rerun with other settings is
refused, and one process at a time may build into a folder.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import time
from collections.abc import Callable
from pathlib import Path

from semantify.errors import SemantifyError
from semantify.files import new_folder_beside, swap_folder, write_json_atomic
from semantify.recipes import BuildSettings
from semantify.recipes.settings import (BUILD_JSON, STAGES, BuildRecord, Carded,  # noqa: F401
                                        Evaluated, Generated, Selected, StageResult, Trained,
                                        is_finished, read_record, write_record)
from semantify.writer_lock import LOCK_NAME, FolderBusy, is_rank_zero, writer_lock

PROGRESS = ".progress.json"  # the latest Progress (or the error) of a running build
DATASET, SELECTION, EVALUATION, CARD = "dataset", "selection", "evaluation", "README.md"
# Training settings a recipe may not set: the build passes them itself.
_SET_BY_BUILD = {"template"}
# Rough costs on a 2-core CPU (bench/build.py), used only for the time left before a stage
# has measured itself: seconds per CLIP text prompt, per training row and epoch, and per
# validation epoch.
_TEXT_SECONDS, _ROW_EPOCH_SECONDS, _EPOCH_SECONDS = 0.03, 2e-5, 0.6


def _default(function, name: str):
    """The default of parameter ``name`` in ``function``'s signature (its one home)."""
    return inspect.signature(function).parameters[name].default


@dataclasses.dataclass(frozen=True)
class Progress:
    """Where a build stands: stage ``index`` of ``count`` is ``done`` (0..1) through.

    ``stage_left`` and ``build_left`` are estimated seconds (None until there is a rate);
    ``detail`` says what is happening in words.
    """

    stage: str
    index: int
    count: int
    done: float
    detail: str
    elapsed: float
    stage_left: float | None = None
    build_left: float | None = None

    def line(self) -> str:
        """One line for a terminal: ``[1/5 generate] 40% 1200/3000 samples · 2:10 left``."""
        left = "" if self.build_left is None else f" · about {_clock(self.build_left)} left"
        return (f"[{self.index}/{self.count} {self.stage}] {self.done:4.0%} {self.detail}"
                f" · {_clock(self.elapsed)} elapsed{left}")


class ProgressFile:
    """Passes each :class:`Progress` on to ``report`` and keeps the latest in ``OUT/.progress
    .json`` (at most once a second, and at each new stage), so that any other process (the
    app, after a reload or a restart) can show how a build goes: :func:`read_progress`."""

    def __init__(self, out: Path, report: Callable[[Progress], None] | None = None):
        self.path, self.report = Path(out) / PROGRESS, report
        self.last, self.stage = 0.0, None

    def __call__(self, progress: Progress) -> None:
        if self.report is not None:
            self.report(progress)
        now = time.monotonic()
        if progress.stage != self.stage or now - self.last >= 1.0 or progress.done >= 1.0:
            self.last, self.stage = now, progress.stage
            if self.path.parent.is_dir():
                write_json_atomic(self.path, dataclasses.asdict(progress))

    def fail(self, error: str) -> None:
        """Keep ``error`` for other processes, in a build folder only (never in one we
        refused)."""
        if (self.path.parent / BUILD_JSON).is_file():
            write_json_atomic(self.path, {"error": error})


def read_progress(out: Path) -> Progress | str | None:
    """The latest progress of the build in ``out``, its error line (a str), or None."""
    try:
        data = json.loads((Path(out) / PROGRESS).read_text())
    except (OSError, ValueError):
        return None
    if "error" in data:
        return str(data["error"])
    try:
        return Progress(**data)
    except TypeError:
        return None


def _clock(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60}:{seconds % 60:02d}"


@dataclasses.dataclass
class _Run:
    """One build's state while it runs: settings, folder, record and the progress sink."""

    settings: BuildSettings
    out: Path
    record: BuildRecord
    report: Callable[[Progress], None]
    started: float = dataclasses.field(default_factory=time.perf_counter)
    sample_rate: float | None = None  # samples/s measured while generating

    def emit(self, stage: str, done: float, detail: str, stage_left: float | None) -> None:
        index = STAGES.index(stage)
        later = self.estimate(STAGES[index + 1:])
        build_left = None if stage_left is None or later is None else stage_left + later
        self.report(Progress(stage, index + 1, len(STAGES), min(max(done, 0.0), 1.0), detail,
                             time.perf_counter() - self.started, stage_left, build_left))

    def estimate(self, stages) -> float | None:
        """Seconds the given (not yet started) stages should take, or None without a rate."""
        generated = self.record.generated
        rate = self.sample_rate or (generated.samples_per_second if generated else None)
        if not rate:
            return None
        settings, views = self.settings, len(self.settings.recipe.views)
        image_seconds = 1.0 / (rate * views)
        from lightning_modules.train import settings_defaults
        from semantify.sets.evaluation import evaluate
        from semantify.sets.photo_views import photographs

        epochs = int(settings.training.get("max_epochs", settings_defaults()["max_epochs"]))
        grid = _default(evaluate, "grid")
        seconds = {
            "generate": settings.samples / rate,
            "select": len(settings.recipe.candidates) * _TEXT_SECONDS,
            "train": epochs * (_EPOCH_SECONDS + settings.samples * _ROW_EPOCH_SECONDS)
            + photographs(settings.samples) * image_seconds,  # its bodies photographed
            "evaluate": settings.recipe.descriptors * grid * views * image_seconds + 5,
            "card": 0.5,
        }
        return sum(seconds[s] for s in stages if s not in self.record.stages)

    def finish(self, stage: str, result: StageResult) -> None:
        """Record ``stage`` as done (the stage counts as done from here on)."""
        self.record = self.record.with_stage(stage, result)
        write_record(self.out, self.record)


def check_training(training) -> None:
    """Refuse training overrides that :func:`lightning_modules.train.train` does not take, or
    whose values are out of range (the checks ``semantify train`` makes)."""
    from lightning_modules.train import TrainingSettings, settings_defaults

    valid = set(settings_defaults()) - _SET_BY_BUILD
    unknown = sorted(set(training) - valid)
    if unknown:
        raise SemantifyError(f"unknown training setting(s) {', '.join(unknown)}; a recipe may "
                             f"set: {', '.join(sorted(valid))}.")
    TrainingSettings(training)


def check_model(settings: BuildSettings) -> None:
    """Refuse a model whose licensed file is missing, naming where to put it."""
    from semantify.models import model_status

    status = model_status(settings.recipe.model.id)
    if not status.available:
        raise SemantifyError(f"recipe {settings.recipe.name} needs model "
                             f"{settings.recipe.model.id}: {status.missing}.")


def check_out(out: Path, settings: BuildSettings) -> BuildRecord | None:
    """The record of the build in ``out`` to resume (None for a new build); refuses a folder
    holding another build, a slider set or other files."""
    out = Path(out)
    record = read_record(out)
    if record is not None:
        old, new = record.identity, settings.identity()
        differ = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
        if differ:
            raise SemantifyError(
                f"{out} holds a build with other settings (they differ in: "
                f"{', '.join(differ)}); rerun with the same arguments to resume it, or choose "
                "another --out.")
        return record
    if out.exists() and (not out.is_dir() or any(p.name not in (LOCK_NAME, PROGRESS)
                                                 for p in out.iterdir())):
        what = "a slider set" if (out / "sliders.json").exists() else "other files"
        raise SemantifyError(f"{out} holds {what}, not a build; choose an empty or new --out.")
    return None


def quick_checks(settings: BuildSettings, out: Path) -> None:
    """The checks a build makes before it starts work that need no process, cheapest first:
    the folder, the model file, the training settings, and CLIP weights that cannot come (not
    cached, and the Hub off or unreachable: a probe of a few seconds). The queue runs them
    before it starts a build's process."""
    from semantify.clip import check_weights_reachable

    check_out(out, settings)
    check_model(settings)
    check_training(settings.training)
    check_weights_reachable(settings.clip)


def prepare(settings: BuildSettings, out: Path, device: str | None = None,
            report: Callable[[Progress], None] | None = None) -> None:
    """Every check a build needs before it starts work: :func:`quick_checks`, then the CLIP
    weights (downloaded once, with progress as stage 0 "download")."""
    from semantify.clip import fetch_weights, load_clip

    quick_checks(settings, out)
    started = time.perf_counter()

    def downloading(done: int, total: int | None) -> None:
        if report is not None:
            size = f"{done / 1e6:.0f}/{total / 1e6:.0f} MB" if total else f"{done / 1e6:.0f} MB"
            report(Progress("download", 0, len(STAGES), done / total if total else 0.0,
                            f"downloading CLIP {settings.clip.name} (once): {size}",
                            time.perf_counter() - started))

    fetch_weights(settings.clip, downloading)
    load_clip(settings.clip, device=device)


def build(settings: BuildSettings, out: Path | str, devices: int = 1,
          accelerator: str = "auto", report: Callable[[Progress], None] | None = None,
          device: str | None = None, workers: int | None = None) -> BuildRecord | None:
    """Build (or resume) the slider set of ``settings`` into ``out``; return its record.

    ``report`` receives a :class:`Progress` at each step. ``devices`` > 1 generates with one
    process per device (DDP relaunches this command; the extra ranks return None after
    generating). ``device`` is where CLIP runs outside generation (default: CUDA if any).
    ``workers``: render processes per device while generating (default:
    :func:`lightning_modules.generate.render_workers`; more pay off on a GPU).
    """
    out = Path(out)
    if not is_rank_zero():  # another rank of a distributed run: generation only
        _generate_dataset(settings, out, devices, accelerator, workers, [])
        return None
    report = ProgressFile(out, report)
    try:
        record = _build(settings, out, devices, accelerator, report, device, workers)
    except FolderBusy:
        raise  # the folder's progress is the other process's to report
    except SemantifyError as error:
        report.fail(str(error))
        raise
    (out / PROGRESS).unlink(missing_ok=True)  # a finished set carries no progress file
    return record


def claim(settings: BuildSettings, out: Path | str) -> BuildRecord:
    """Create the folder and record of a build to run later (the app's queue), or return the
    record of the same build already there; refuses what :func:`check_out` refuses."""
    out = Path(out)
    record = check_out(out, settings)
    if record is None:
        out.mkdir(parents=True, exist_ok=True)
        record = settings.record()
        write_record(out, record)
    return record


def _build(settings: BuildSettings, out: Path, devices: int, accelerator: str,
           report: ProgressFile, device: str | None, workers: int | None) -> dict:
    prepare(settings, out, device, report)
    # One process builds into a folder (FolderBusy for the others); the lock file goes with
    # the lock, so a finished set carries none.
    with writer_lock(out, command="semantify build"):
        _quiet_lightning()
        record = claim(settings, out)  # under the lock: another process may have started it
        run = _Run(settings, out, record, report)
        for stage in STAGES:
            if stage in record.stages:
                continue
            started = time.perf_counter()
            result = _STAGE_WORK[stage](run, devices, accelerator, workers)
            run.finish(stage, dataclasses.replace(
                result, seconds=round(time.perf_counter() - started, 2)))
    return run.record


def _quiet_lightning() -> None:
    """Keep Lightning's start-up banners and known harmless warnings out of the progress."""
    import logging
    import warnings

    for name in ("lightning.pytorch", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.WARNING)
    for message in ("Consider setting `persistent_workers", ".*treespec", "The '.*dataloader' "
                    "does not have many workers", "Couldn't infer the batch indices"):
        warnings.filterwarnings("ignore", message=message)


def _generate_dataset(settings: BuildSettings, out: Path, devices: int, accelerator: str,
                      workers: int | None, callbacks: list) -> dict:
    from lightning_modules.generate import generate

    return generate(settings.generation_spec(), out / DATASET, devices=devices,
                    accelerator=accelerator, workers=workers, progress=False,
                    callbacks=callbacks)


# Each stage returns its result; the build fills in the seconds it took.
def _generate(run: _Run, devices: int, accelerator: str, workers: int | None) -> Generated:
    run.emit("generate", 0.0, "starting the renderer and CLIP", None)
    shard_size = run.settings.generation_spec().shard_size
    done = len(list((run.out / DATASET / "shards").glob("shard-*.safetensors"))) * shard_size
    from lightning_modules.build_progress import GenerationProgress

    summary = _generate_dataset(run.settings, run.out, devices, accelerator, workers, [
        GenerationProgress(run, run.settings.samples, min(done, run.settings.samples))])
    rate = summary["samples_per_second"] if summary["generated"] else None
    before = run.record.generated
    return Generated(0.0, summary["samples"], summary["generated"], round(rate, 3) if rate
                     else before.samples_per_second if before else None)


def _select(run: _Run, *_) -> Selected:
    from semantify.data.dataset import open_dataset
    from semantify.descriptors.dataset_selection import select_on_dataset

    recipe = run.settings.recipe
    run.emit("select", 0.0, f"scoring {len(recipe.candidates)} candidate words",
             run.estimate(["select"]))
    partial = new_folder_beside(run.out / SELECTION)
    selection, _ = select_on_dataset(open_dataset(run.out / DATASET), recipe.candidates,
                                     recipe.descriptors, template=recipe.template,
                                     forced=recipe.forced, out=partial)
    swap_folder(partial, run.out / SELECTION)
    return Selected(0.0, tuple(selection.chosen), round(selection.r2, 4),
                    round(selection.baseline.r2, 4))


def _train(run: _Run, *_) -> Trained:
    from lightning_modules.build_progress import TrainingProgress
    from lightning_modules.train import train

    chosen = list(run.record.selected.chosen)
    run.emit("train", 0.0, f"training sliders for {', '.join(chosen)}", run.estimate(["train"]))
    _, metrics = train(run.out / DATASET, chosen, run.out, template=run.settings.recipe.template,
                       progress=False, callbacks=[TrainingProgress(run)],
                       **run.settings.training)
    return Trained(0.0, metrics["val_vertex_mm"], metrics["val_r2"], metrics["epochs"],
                   metrics["best_epoch"])


def _evaluate(run: _Run, *_) -> Evaluated:
    from semantify.sets.evaluation import evaluate
    from semantify.sets.sliders import SliderSet

    run.emit("evaluate", 0.0, "held-out error, slider fidelity and pictures",
             run.estimate(["evaluate"]))
    partial = new_folder_beside(run.out / EVALUATION)
    report = evaluate(SliderSet.load(run.out), None, partial)
    swap_folder(partial, run.out / EVALUATION)
    return Evaluated(0.0, round(report["held_out"]["vertex_mm"], 3),
                     round(report["held_out"]["coefficient_r2"], 4),
                     round(report["disentanglement"], 4))


def _card(run: _Run, *_) -> Carded:
    from semantify.sets.model_card import write_model_card

    run.emit("card", 0.0, "writing README.md", 0.5)
    write_model_card(run.out)
    return Carded(0.0, CARD)


_STAGE_WORK = {"generate": _generate, "select": _select, "train": _train,
               "evaluate": _evaluate, "card": _card}
