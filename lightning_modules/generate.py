"""Dataset generation as a Lightning predict loop.

A data module hands each rank its share of the pending shards; on long runs a worker
process runs the sample -> mesh -> render pipeline ahead of time; the module's predict step
encodes the views with CLIP; a prediction writer stores each batch as one atomic shard.
Sample i depends only on (seed, i), so any number of devices or render processes, and any
resume, gives the same dataset.
"""

from __future__ import annotations

import contextlib
import re
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.callbacks import BasePredictionWriter, Callback
from torch.utils.data import DataLoader, Dataset

from lightning_modules import quiet_lightning
from lightning_modules.cluster import check_launch
from semantify.data.dataset import Manifest, shard_path, write_shard
from semantify.data.generation import (RENDER_PROCESS_FROM, GenerationSpec, SamplePipeline,
                                       build_manifest, prepare_output, thumbnails)
from semantify.errors import SemantifyError
from semantify.writer_lock import is_rank_zero, writer_lock


class ShardSource(Dataset):
    """Item k: the full batch (coefficients, images, measurements) of one pending shard."""

    def __init__(self, manifest: Manifest, shards: list[int]):
        self.manifest, self.shards = manifest, shards
        self.pipeline = SamplePipeline(manifest)

    def __len__(self) -> int:
        return len(self.shards)

    def __getitem__(self, k: int) -> dict[str, torch.Tensor]:
        shard = self.shards[k]
        batch = self.pipeline(self.manifest.shard_indices(shard))
        batch["shard"] = torch.tensor(shard)
        return batch


class GenerationData(L.LightningDataModule):
    """Rank r owns shards r, r + world, r + 2·world, ...; it skips those already written.

    Each rank only ever writes its own shards, so every rank computes the same split
    without talking to the others, however many shards were finished before a resume.
    """

    def __init__(self, manifest: Manifest, root: Path, workers: int = 0):
        super().__init__()
        self.manifest, self.root, self.workers = manifest, Path(root), workers

    def predict_dataloader(self) -> DataLoader:
        rank, world = self.trainer.global_rank, self.trainer.world_size
        mine = [s for s in range(rank, self.manifest.num_shards, world)
                if not shard_path(self.root, s).exists()]
        source = ShardSource(self.manifest, mine)
        # Rendering needs its own GL context: a spawned worker (never forked) builds one.
        workers = self.workers if self.manifest.clip else 0
        return DataLoader(source, batch_size=None, num_workers=workers,
                          multiprocessing_context="spawn" if workers else None,
                          prefetch_factor=4 if workers else None)


class GenerationModule(L.LightningModule):
    """Encodes each batch's rendered views with CLIP into (B, V, D) float16 embeddings."""

    def __init__(self, manifest: Manifest):
        super().__init__()
        self.manifest = manifest
        self.scorer = None

    def on_predict_start(self) -> None:
        if self.manifest.clip:
            from semantify.clip import load_clip

            self.scorer = load_clip(self.manifest.clip_spec(), device=str(self.device))

    def predict_step(self, batch: dict, batch_idx: int) -> dict[str, torch.Tensor]:
        out = {k: batch[k].cpu() for k in ("shard", "indices", "coefficients", "measurements")
               if k in batch}
        if "images" in batch:
            images = batch["images"]
            b, v = images.shape[:2]
            embeds = self.scorer.encode_images(images.reshape(b * v, *images.shape[2:]))
            out["image_embeds"] = embeds.reshape(b, v, -1).to(torch.float16).cpu()
            if self.manifest.thumbnails:
                out["thumbnails"] = thumbnails(images.cpu(), self.manifest.thumbnails)
        return out


class ShardWriter(BasePredictionWriter):
    """Writes each predicted batch as one shard (temp file + rename), on the rank that made it."""

    def __init__(self, root: Path):
        super().__init__(write_interval="batch")
        self.root = Path(root)

    def write_on_batch_end(self, trainer, pl_module, prediction, batch_indices, batch,
                           batch_idx, dataloader_idx=0):
        shard = int(prediction.pop("shard"))
        write_shard(self.root, shard, prediction)


class SampleProgress(Callback):
    """A progress bar in samples, with samples/s and time left (rank 0, whole run estimate)."""

    def __init__(self, total: int, enabled: bool = True):
        self.total, self.enabled, self.bar = total, enabled, None

    def on_predict_start(self, trainer, pl_module):
        if self.enabled and trainer.is_global_zero:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=self.total, unit="samples", dynamic_ncols=True,
                            desc="generating", smoothing=0.1)

    def on_predict_batch_end(self, trainer, pl_module, outputs, batch, batch_idx,
                             dataloader_idx=0):
        if self.bar is not None:
            self.bar.update(min(len(batch["indices"]) * trainer.world_size,
                                self.total - self.bar.n))

    def on_predict_end(self, trainer, pl_module):
        if self.bar is not None:
            self.bar.close()


def _unwrap(error: BaseException) -> SemantifyError | None:
    """The SemantifyError behind ``error``, raised here or in a worker or spawned process.

    Those re-raise it with the original traceback in the message; keep only its own line.
    """
    found = re.findall(r"SemantifyError: (.+?)(?:\n|$)", str(error))
    if found:
        return SemantifyError(found[-1])
    return error if isinstance(error, SemantifyError) else None


def render_workers(workers: int | None, samples: int) -> int:
    """Render processes per device for a run generating ``samples``: ``workers`` if given,
    else one from RENDER_PROCESS_FROM samples on and none below. A render process takes
    about 5 s to start and renders ahead of CLIP, 5-17% faster at steady state on 2 CPU
    cores (``bench/generate.py --workers 0,1``): short runs are faster without it."""
    if workers is not None:
        return workers
    return int(samples >= RENDER_PROCESS_FROM)


def generate(spec: GenerationSpec, out: Path | str, devices: int = 1, num_nodes: int = 1,
             accelerator: str = "auto", workers: int | None = None, progress: bool = True,
             callbacks: Sequence[Callback] = ()) -> dict:
    """Generate (or resume) the dataset ``spec`` into ``out``; returns a summary dict.

    ``devices`` processes on each of ``num_nodes`` machines; more than one node needs a
    launcher (torchrun or srun) whose counts match. Global rank 0 holds ``out``'s writer lock,
    so a second run on the same folder is refused; every rank writes only its own shards.
    ``workers``: render processes per device (:func:`render_workers`). ``callbacks`` are
    extra Lightning callbacks of the predict loop (e.g. progress reports).
    """
    from semantify.models import load_model

    check_launch(num_nodes, devices)
    model = load_model(spec.model_id, **dict(spec.model_options))
    names: list[str] = []
    if spec.measurements:
        from semantify.measurements.anthropometer import MEASUREMENTS, has_landmarks

        names = list(MEASUREMENTS) if has_landmarks(model) else []
    manifest = build_manifest(spec, model, names)
    lead = is_rank_zero()
    with writer_lock(out) if lead else contextlib.nullcontext():
        pending = prepare_output(Path(out), manifest, create=lead)
        total = sum(len(manifest.shard_indices(s)) for s in pending)
        started = time.perf_counter()
        if pending:
            _predict(manifest, out, devices, num_nodes, accelerator,
                     render_workers(workers, total), progress, total, callbacks)
    seconds = time.perf_counter() - started
    return {"out": str(out), "samples": manifest.samples, "generated": total,
            "skipped_shards": manifest.num_shards - len(pending),
            "seconds": seconds, "samples_per_second": total / seconds if seconds else 0.0}


def _predict(manifest: Manifest, out: Path | str, devices: int, num_nodes: int, accelerator: str,
             workers: int, progress: bool, total: int, callbacks: Sequence[Callback] = ()
             ) -> None:
    """Run the predict loop that writes the pending shards, on every rank."""
    # "ddp" relaunches this command once per extra device (or joins the processes a launcher
    # started); each rank finds its own shards.
    strategy = "ddp" if devices * num_nodes > 1 else "auto"
    quiet_lightning()
    trainer = L.Trainer(
        accelerator=accelerator, devices=devices, num_nodes=num_nodes, strategy=strategy,
        use_distributed_sampler=False, logger=False, enable_progress_bar=False,
        enable_model_summary=False, enable_checkpointing=False,
        callbacks=[ShardWriter(out), SampleProgress(total, progress), *callbacks])
    # Each batch is a whole shard (batch_size=None): there are no sampler indices to infer.
    warnings.filterwarnings("ignore", message="Couldn't infer the batch indices")
    try:
        trainer.predict(GenerationModule(manifest), datamodule=GenerationData(
            manifest, out, workers), return_predictions=False)
    except Exception as error:
        cause = _unwrap(error)
        if cause is None:
            raise
        raise cause from None
