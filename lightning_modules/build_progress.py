"""Lightning callbacks that report a build's progress (samples written, epochs trained) to its
run (:mod:`lightning_modules.build`); kept apart so that reading build records needs no
Lightning."""

from __future__ import annotations

import time

from lightning.pytorch.callbacks import Callback


class GenerationProgress(Callback):
    """Reports samples written (all ranks together) after each predicted shard; ``done``
    samples were already there (a resumed build)."""

    def __init__(self, run, total: int, done: int = 0):
        self.run, self.total, self.count, self.initial = run, total, done, done
        self.start = None

    def on_predict_start(self, trainer, pl_module):
        self.start = time.perf_counter()
        self.run.emit("generate", self.count / self.total, f"{self.count}/{self.total} samples",
                      None)

    def on_predict_batch_end(self, trainer, pl_module, outputs, batch, batch_idx,
                             dataloader_idx=0):
        if not trainer.is_global_zero:
            return
        self.count = min(self.count + len(batch["indices"]) * trainer.world_size, self.total)
        rate = (self.count - self.initial) / max(time.perf_counter() - self.start, 1e-6)
        self.run.sample_rate = rate
        self.run.emit("generate", self.count / self.total,
                      f"{self.count}/{self.total} samples, {rate:.1f}/s",
                      (self.total - self.count) / rate)


class TrainingProgress(Callback):
    """Reports epochs done, and the time left if every epoch up to the last is run."""

    def __init__(self, run):
        self.run, self.start = run, None

    def on_train_start(self, trainer, pl_module):
        self.start = time.perf_counter()

    def on_train_epoch_end(self, trainer, pl_module):
        done, total = trainer.current_epoch + 1, max(trainer.max_epochs or 1, 1)
        per_epoch = (time.perf_counter() - self.start) / done
        self.run.emit("train", done / total, f"epoch {done}/{total} (stops early when "
                      "the held-out error stops falling)", (total - done) * per_epoch)

    def on_train_end(self, trainer, pl_module):
        """Training is over; a set with words photographs some of its bodies next
        (:mod:`semantify.sets.photo_views`), before it is written."""
        data = trainer.datamodule
        if getattr(data, "uses_clip", False):
            from semantify.sets.photo_views import VIEWS, photographed

            self.run.emit("train", 1.0, f"photographing {photographed(len(data.dataset))} "
                          f"bodies from the {' and the '.join(VIEWS)} for photo fits", None)
