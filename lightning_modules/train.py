"""Mapper training as Lightning: a data module over a dataset, the mapper module, the writer.

Everything sits in memory as tensors (no DataLoader workers): 10,000 rows are a few MB.
The module keeps the best weights (lowest validation vertex error) in memory and puts them
back at the end of fit, so the slider set holds the best epoch, not the last.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import inspect
import math
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from lightning_modules import quiet_lightning
from semantify.compat import ensure_torchvision

ensure_torchvision()  # lightning imports torchmetrics, which imports torchvision

import lightning as L  # noqa: E402
import torch  # noqa: E402
from lightning.pytorch.callbacks import Callback, EarlyStopping  # noqa: E402

from semantify.data.dataset import open_dataset  # noqa: E402
from semantify.errors import SemantifyError  # noqa: E402
from semantify.sets.mapper import Mapper, r2_score, validation_split, vertex_error  # noqa: E402
from semantify.sets.sliders import TrainedSliders, trained_sliders  # noqa: E402

MONITOR = "val/vertex_mm"


class Batches:
    """(inputs, targets) mini-batches from in-memory tensors; reshuffled each pass if asked."""

    def __init__(self, inputs: torch.Tensor, targets: torch.Tensor, batch_size: int,
                 shuffle: bool, seed: int = 0):
        self.inputs, self.targets = inputs, targets
        self.batch_size, self.shuffle = batch_size, shuffle
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return -(-self.inputs.shape[0] // self.batch_size)

    def __iter__(self):
        n = self.inputs.shape[0]
        order = torch.randperm(n, generator=self.generator) if self.shuffle else torch.arange(n)
        for start in range(0, n, self.batch_size):
            rows = order[start:start + self.batch_size]
            yield self.inputs[rows], self.targets[rows]


def _at_least(least):
    return lambda value: value >= least, f"at least {least}"


# Each training setting's valid values (the defaults live in the modules' signatures): checked
# by TrainingSettings for every front, and by the modules for LightningCLI's YAML.
RANGES: dict[str, tuple[Callable[[object], bool], str]] = {
    "hidden": (lambda widths: all(width >= 1 for width in widths), "widths of at least 1"),
    "lr": (lambda lr: 0 < lr < 10, "above 0 (and below 10)"),
    "weight_decay": (lambda value: value >= 0, "0 or more"),
    "warmup": (lambda value: 0 <= value < 1, "from 0 to below 1"),
    "vertex_loss": (lambda value: value >= 0, "0 or more"),
    "vertex_batch": _at_least(1), "vertex_subset": _at_least(0),
    "val_vertex_samples": _at_least(1), "threads": _at_least(0),
    "val_fraction": (lambda value: 0 < value < 1, "between 0 and 1"),
    "batch_size": _at_least(1), "max_epochs": _at_least(1), "patience": _at_least(1),
}


def check_setting(name: str, value) -> None:
    """A one-line error unless training setting ``name`` is finite and in its range."""
    ok, wanted = RANGES[name]
    finite = not isinstance(value, float) or math.isfinite(value)
    if not (finite and ok(value)):
        raise SemantifyError(f"training setting --{name.replace('_', '-')} must be {wanted}, "
                             f"got {value!r}; "
                             "`semantify train --help` shows each setting's default.")


class SliderDataModule(L.LightningDataModule):
    """Descriptor values (inputs) and coefficients (targets) of a generated dataset.

    Args:
        data: dataset folder written by ``semantify generate``.
        descriptors: CLIP words and/or measurement names, as a list or "fat,tall,height_cm".
        model: the model id the dataset must have been made with (None: take the dataset's).
        template: CLIP prompt template name or text (None: the model family's).
        val_fraction: share of rows held out for validation (split fixed by ``seed``).
        seed: seed of the split, the shuffling and the initial weights.
        batch_size: training rows per step.
    """

    def __init__(self, data: str, descriptors: list[str] | str, model: str | None = None,
                 template: str | None = None, val_fraction: float = 0.1, seed: int = 0,
                 batch_size: int = 512):
        super().__init__()
        for name in ("val_fraction", "batch_size"):
            check_setting(name, locals()[name])
        self.save_hyperparameters()
        self.data = Path(data)
        self.inputs: torch.Tensor | None = None

    def setup(self, stage: str | None = None) -> None:
        if self.inputs is not None:
            return
        from semantify.descriptors import descriptor_values, parse_descriptors, split_descriptors

        hp = self.hparams
        if not 0.0 < hp.val_fraction < 1.0:
            raise SemantifyError(f"val_fraction must be between 0 and 1, got {hp.val_fraction}.")
        dataset = open_dataset(self.data, fields=("image_embeds", "measurements"))
        if hp.model is not None and hp.model != dataset.model_id:
            raise SemantifyError(f"the config names model {hp.model!r} but {self.data} was "
                                 f"made with {dataset.model_id!r}; set data.model to "
                                 f"{dataset.model_id!r} or point data.data at a {hp.model} "
                                 "dataset.")
        self.dataset = dataset
        self.descriptors = parse_descriptors(hp.descriptors)
        _, words = split_descriptors(dataset, self.descriptors)
        self.uses_clip = bool(words)
        self.template_text = None
        if words:
            from semantify.clip import template_for

            self.template_text = template_for(dataset.family, hp.template)
        self.inputs = descriptor_values(dataset, self.descriptors, template=hp.template)
        self.targets = dataset.coefficients.to(torch.float32)
        # The (N, K) values are all training needs: let the embeddings go (2 KB a sample).
        dataset.image_embeds = dataset.measurements = None
        if len(dataset) < 10:
            raise SemantifyError(f"{self.data} has only {len(dataset)} samples; generate at "
                                 "least a few hundred to train sliders.")
        self.train_rows, self.val_rows = validation_split(len(dataset), hp.val_fraction, hp.seed)
        self.morphable_model = dataset.model_ref.load()

    def train_dataloader(self) -> Batches:
        rows = self.train_rows
        return Batches(self.inputs[rows], self.targets[rows], self.hparams.batch_size, True,
                       self.hparams.seed)

    def val_dataloader(self) -> Batches:
        rows = self.val_rows
        return Batches(self.inputs[rows], self.targets[rows], 4096, False)


class MapperModule(L.LightningModule):
    """Trains a :class:`semantify.sets.mapper.Mapper` on a :class:`SliderDataModule`.

    Args:
        hidden: hidden layer widths of the MLP (its depth is their count).
        lr: peak learning rate of the one-cycle schedule (AdamW).
        weight_decay: AdamW weight decay.
        warmup: fraction of the steps spent warming the learning rate up.
        vertex_loss: weight of the mean per-vertex error (metres) through the model's forward
            pass, added to the standardised coefficient MSE; 0 turns it off. With 100, an error
            of 1 cm weighs as much as a unit of standardised coefficient MSE.
        vertex_batch: rows of each batch that go through the model for the vertex loss.
        vertex_subset: vertices the vertex loss compares (a fixed random subset; 0: all).
        val_vertex_samples: validation rows whose vertex error is tracked each epoch.
        threads: CPU threads torch uses while fitting (0: leave torch's setting). The MLP and
            its batches are too small to gain from more than one, and on a busy machine
            several threads spinning on each tiny operation made a step 30 times slower.
    """

    def __init__(self, hidden: Sequence[int] = (256, 256), lr: float = 3e-3,
                 weight_decay: float = 1e-4, warmup: float = 0.15, vertex_loss: float = 0.0,
                 vertex_batch: int = 32, vertex_subset: int = 2000,
                 val_vertex_samples: int = 256, threads: int = 1):
        super().__init__()
        given = locals()
        for name in ("hidden", "lr", "weight_decay", "warmup", "vertex_loss", "vertex_batch",
                     "vertex_subset", "val_vertex_samples", "threads"):
            check_setting(name, given[name])
        self.save_hyperparameters()
        self.mapper: Mapper | None = None
        self.best: dict | None = None
        self.history: list[dict] = []
        self._val: list[tuple[torch.Tensor, torch.Tensor]] = []
        self._threads_before: int | None = None

    # -- set-up ------------------------------------------------------------------------------

    def setup(self, stage: str | None = None) -> None:
        dm = self.trainer.datamodule
        self._model = [dm.morphable_model]  # a list: the 3DMM is not part of this module's state
        if self.mapper is None:
            with torch.random.fork_rng():
                torch.manual_seed(dm.hparams.seed)
                mapper = Mapper(dm.inputs.shape[1], dm.targets.shape[1], self.hparams.hidden)
                num_vertices = dm.morphable_model.num_vertices
                subset = self.hparams.vertex_subset
                self._vertex_ids = (torch.randperm(num_vertices)[:subset].sort().values
                                    if 0 < subset < num_vertices else None)
            mapper.set_statistics(dm.inputs[dm.train_rows], dm.targets[dm.train_rows])
            self.mapper = mapper
            rows = dm.val_rows[: self.hparams.val_vertex_samples]
            self._val_targets = dm.targets[rows]
            with torch.no_grad():
                self._val_vertices = self.morphable_model(self._val_targets)

    @property
    def morphable_model(self):
        return self._model[0]

    def on_fit_start(self) -> None:
        if self.hparams.threads > 0:
            self._threads_before = torch.get_num_threads()
            torch.set_num_threads(self.hparams.threads)

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.mapper.parameters(), lr=self.hparams.lr,
                                      weight_decay=self.hparams.weight_decay)
        schedule = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=self.hparams.lr, pct_start=self.hparams.warmup,
            total_steps=max(int(self.trainer.estimated_stepping_batches), 1))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}

    # -- steps -------------------------------------------------------------------------------

    def _vertices(self, coefficients: torch.Tensor) -> torch.Tensor:
        vertices = self.morphable_model(coefficients)
        return vertices if self._vertex_ids is None else vertices[:, self._vertex_ids]

    def _step(self, batch, stage: str) -> torch.Tensor:
        inputs, targets = batch
        predicted = self.mapper.standardised(inputs)
        loss = torch.nn.functional.mse_loss(predicted, self.mapper.standardise_outputs(targets))
        self.log(f"{stage}/coef_mse", loss, prog_bar=stage == "train", batch_size=len(inputs))
        if stage == "train" and self.hparams.vertex_loss > 0:
            n = self.hparams.vertex_batch
            raw = predicted[:n] * self.mapper.out_std + self.mapper.out_mean
            with torch.no_grad():
                target_vertices = self._vertices(targets[:n])
            error = vertex_error(self._vertices(raw), target_vertices)
            self.log("train/vertex_mm", 1000 * error, prog_bar=True, batch_size=n)
            loss = loss + self.hparams.vertex_loss * error
        if stage == "val":
            self._val.append((self.mapper(inputs).detach(), targets))
        return loss

    def training_step(self, batch, batch_idx):
        return self._step(batch, "train")

    def validation_step(self, batch, batch_idx):
        self._step(batch, "val")

    def on_validation_epoch_end(self) -> None:
        predicted = torch.cat([p for p, _ in self._val])
        targets = torch.cat([t for _, t in self._val])
        self._val.clear()
        with torch.no_grad():
            vertices = self.morphable_model(predicted[: len(self._val_targets)])
        vertex_mm = 1000 * float(vertex_error(vertices, self._val_vertices))
        r2 = r2_score(predicted, targets)
        self.log(MONITOR, vertex_mm, prog_bar=True)
        self.log("val/r2", r2, prog_bar=True)
        if self.trainer.sanity_checking:
            return
        self.history.append({"epoch": self.current_epoch, "val_vertex_mm": vertex_mm,
                             "val_r2": r2})
        if self.best is None or vertex_mm < self.best["val_vertex_mm"]:
            self.best = {"epoch": self.current_epoch, "val_vertex_mm": vertex_mm, "val_r2": r2,
                         "state": copy.deepcopy(self.mapper.state_dict())}

    def use_best_weights(self) -> None:
        """Put the best epoch's weights back into the mapper (no-op before any validation)."""
        if self.best is not None:
            self.mapper.load_state_dict(self.best["state"])

    def on_fit_end(self) -> None:
        self.use_best_weights()

    def teardown(self, stage: str) -> None:
        if self._threads_before is not None:  # put torch's thread count back
            torch.set_num_threads(self._threads_before)
            self._threads_before = None


class SliderSetWriter(Callback):
    """At the end of fit, write the best mapper as a slider set folder (on rank 0).

    Args:
        out: slider set folder to write (None: write nothing).
        selection: descriptor selection report (folder or file) to copy into the slider set.
    """

    def __init__(self, out: str | None = None, selection: str | None = None,
                 photo_views=None):
        self.out, self.selection, self.photo_views = out, selection, photo_views
        self.slider_set: TrainedSliders | None = None
        self.metrics: dict | None = None

    def on_fit_start(self, trainer, pl_module) -> None:
        self._start = time.perf_counter()

    def on_fit_end(self, trainer, pl_module: MapperModule) -> None:
        pl_module.use_best_weights()
        dm: SliderDataModule = trainer.datamodule
        mapper = copy.deepcopy(pl_module.mapper).cpu().eval()
        self.metrics = final_metrics(mapper, dm, pl_module, time.perf_counter() - self._start)
        if self.out is None or not trainer.is_global_zero:
            return
        sliders, word_scale = trained_sliders(dm.descriptors, dm.inputs[dm.train_rows])
        training = {"val_fraction": dm.hparams.val_fraction, "seed": dm.hparams.seed,
                    "samples": len(dm.dataset), "model_hparams": {
                        k: list(v) if isinstance(v, tuple) else v
                        for k, v in pl_module.hparams.items()}}
        slider_set = TrainedSliders(
            Path(self.out).name, sliders, dm.dataset.model_ref, mapper,
            dm.morphable_model.coefficient_names,
            dm.dataset.clip_spec if dm.uses_clip else None, dm.template_text, dm.data, training,
            coupling=coupling_of(sliders, dm.inputs[dm.train_rows]), word_scale=word_scale)
        if slider_set.coupling is not None and slider_set.anthropometer is not None:
            from semantify.sets.coupling import calibrated

            slider_set.coupling = calibrated(slider_set)  # bands where refinement reaches
        if slider_set.clip is not None:
            slider_set.photo_views = self.photo_views or _photographed(slider_set, dm.data)
        slider_set.save(self.out, self.metrics, self.selection)
        self.slider_set = slider_set


def _photographed(slider_set: TrainedSliders, data: Path):
    """Some of the dataset's bodies photographed front and side, for photo fits
    (:mod:`semantify.sets.photo_views`)."""
    from semantify.sets.photo_views import photograph

    return photograph(slider_set, open_dataset(data, fields=("image_embeds",)))


def coupling_of(sliders, inputs: torch.Tensor):
    """The :class:`semantify.sets.coupling.Coupling` of the measurement sliders (two or more) on
    the (N, K) training inputs, or None."""
    from semantify.sets.coupling import Coupling

    index = [i for i, s in enumerate(sliders) if s.measurement is not None]
    if len(index) < 2:
        return None
    return Coupling.fit([sliders[i].name for i in index], inputs[:, index])


def final_metrics(mapper: Mapper, dm: SliderDataModule, module: MapperModule,
                  seconds: float, max_rows: int = 2000) -> dict:
    """Held-out vertex error (mm) and R² of ``mapper`` on the validation rows, plus history."""
    from semantify.sets.mapper import mean_vertex_error_mm

    rows = dm.val_rows
    with torch.no_grad():
        predicted = mapper(dm.inputs[rows])
    best = module.best or {}
    return {
        "val_vertex_mm": mean_vertex_error_mm(dm.morphable_model, predicted[:max_rows],
                                              dm.targets[rows][:max_rows]),
        "val_r2": r2_score(predicted, dm.targets[rows]),
        "val_rows": int(len(rows)), "train_rows": int(len(dm.train_rows)),
        "best_epoch": best.get("epoch"), "epochs": len(module.history),
        "train_seconds": round(seconds, 2), "history": module.history,
    }


PATIENCE = 8  # validation epochs without improvement before training stops
# Early stopping on the validation vertex error, for every front (LightningCLI's included).
EARLY_STOPPING = {"monitor": MONITOR, "mode": "min", "patience": PATIENCE, "min_delta": 0.01}


def trainer_defaults() -> dict:
    """Trainer settings shared by ``semantify train``, the builds and ``python -m
    lightning_modules``."""
    return {"accelerator": "cpu", "devices": 1, "max_epochs": 40, "logger": False,
            "enable_checkpointing": False, "num_sanity_val_steps": 0,
            "enable_model_summary": False}


def early_stopping(patience: int = PATIENCE) -> EarlyStopping:
    return EarlyStopping(**{**EARLY_STOPPING, "patience": patience})


# The arguments of the data module that every front sets itself, never as a setting.
FIXED = ("self", "data", "descriptors", "model")


def settings_defaults() -> dict[str, object]:
    """Every training setting and its default, read from the typed signatures of
    :class:`MapperModule` and :class:`SliderDataModule` (the one place defaults live), plus
    the trainer's ``max_epochs`` and the early-stopping ``patience``."""
    defaults: dict[str, object] = {"max_epochs": trainer_defaults()["max_epochs"],
                                   "patience": PATIENCE}
    for cls in (MapperModule, SliderDataModule):
        for name, parameter in inspect.signature(cls.__init__).parameters.items():
            if name not in FIXED:
                defaults[name] = parameter.default
    return defaults


@dataclasses.dataclass(frozen=True)
class TrainingSettings:
    """The training settings that depart from :func:`settings_defaults`, by name, each typed
    like its default and checked against its range (:data:`RANGES`) here, so that
    ``semantify train``, recipes, builds and the app get the same one-line errors before any
    work starts."""

    overrides: Mapping[str, object] = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        known = settings_defaults()
        unknown = [name for name in self.overrides if name not in known]
        if unknown:
            raise SemantifyError(f"unknown training setting {unknown[0]!r}; settings are "
                                 f"{', '.join(known)}.")
        typed = {name: _typed(name, value, known[name])
                 for name, value in self.overrides.items()}
        for name, value in typed.items():
            if name in RANGES:
                check_setting(name, value)
        object.__setattr__(self, "overrides", typed)

    def split(self) -> tuple[dict, dict, dict]:
        """(MapperModule kwargs, SliderDataModule kwargs, trainer/stopping kwargs)."""
        module = set(inspect.signature(MapperModule.__init__).parameters)
        data = set(inspect.signature(SliderDataModule.__init__).parameters)
        pick = lambda names: {k: v for k, v in self.overrides.items() if k in names}  # noqa: E731
        return pick(module), pick(data), pick({"max_epochs", "patience"})


def _typed(name: str, value, default):
    """``value`` as the type of ``default`` (widths as a tuple, an int where a float goes),
    or a one-line error."""
    flag = f"--{name.replace('_', '-')}"
    if isinstance(default, tuple):
        if isinstance(value, (list, tuple)) and all(
                isinstance(v, int) and not isinstance(v, bool) for v in value):
            return tuple(value)
    elif isinstance(default, bool):
        if isinstance(value, bool):
            return value
    elif isinstance(default, int):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif isinstance(default, float):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif value is None or isinstance(value, str):  # a template: text, or None for the family's
        return value
    raise SemantifyError(f"training setting {flag} must be like {default!r}, got {value!r}; "
                         "`semantify train --help` shows each setting's default.")


def train(data: str | Path, descriptors: Sequence[str] | str, out: str | Path | None,
          selection: str | Path | None = None, progress: bool = True,
          callbacks: Sequence[Callback] = (), photo_views=None,
          **settings) -> tuple[TrainedSliders | None, dict]:
    """Train sliders on ``data`` and write them to ``out``; return (slider set, metrics).

    ``settings`` override :func:`settings_defaults` (e.g. ``max_epochs=12, hidden=(64,)``);
    ``callbacks`` are extra Lightning callbacks (e.g. progress reports); ``photo_views``: the
    dataset's bodies photographed already (by a set trained on it), else they are photographed.
    """
    from lightning_modules.body_sliders import train_body_sliders, uses_body_model
    from semantify.descriptors import parse_descriptors

    if uses_body_model(parse_descriptors(descriptors)):  # a build slider: no network to train
        return train_body_sliders(data, parse_descriptors(descriptors), out)
    module_kwargs, data_kwargs, loop = TrainingSettings(settings).split()
    dm = SliderDataModule(str(data), list(descriptors) if not isinstance(descriptors, str)
                          else descriptors, **data_kwargs)
    module = MapperModule(**module_kwargs)
    if out is not None:  # refused now, not after training
        from semantify.sets.slider_files import check_target

        check_target(out, selection)
    writer = SliderSetWriter(None if out is None else str(out),
                             None if selection is None else str(selection), photo_views)
    trainer_settings = {**trainer_defaults(), "enable_progress_bar": progress}
    if "max_epochs" in loop:
        trainer_settings["max_epochs"] = loop["max_epochs"]
    quiet_lightning()
    trainer = L.Trainer(**trainer_settings, callbacks=[
        writer, early_stopping(loop.get("patience", PATIENCE)), *callbacks])
    # Lightning draws its bars on stdout; stdout is for results (`semantify train` prints JSON)
    with contextlib.redirect_stdout(sys.stderr) if progress else contextlib.nullcontext():
        trainer.fit(module, datamodule=dm)
    return writer.slider_set, writer.metrics
