"""Build sliders in the app: generate a dataset, select descriptors, train, save.

The result is saved under the cache root's ``sliders/NAME`` (the slider set; its dataset beside
it in ``NAME.data``), where the model picker finds it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from semantify.errors import SemantifyError
from semantify.paths import built_sets_dir

METRIC, DEFAULT_CLIP, CHECKPOINT, TINY = "metric", "clip", "checkpoint", "tiny-random"
MAX_DESCRIPTORS = 6
MIN_SAMPLES = 64


def clip_spec(kind: str, checkpoint: str | None = None):
    """The ClipSpec of a build option (None for metric only), or a one-line error."""
    from semantify.clip import ClipSpec

    if kind == METRIC:
        return None
    if kind == TINY:
        return ClipSpec.parse("tiny-random")
    if kind == CHECKPOINT:
        if not (checkpoint or "").strip():
            raise SemantifyError("give the path of a CLIP checkpoint (an open_clip weights "
                                 "file or folder) in the checkpoint box.")
        return ClipSpec.parse(None, checkpoint.strip())
    return ClipSpec.parse(None)


def _generate(spec, out: Path, report: Callable[[float, str], None]) -> None:
    """Run generation in a thread and report its progress from the shards written."""
    from lightning_modules.generate import generate

    outcome: dict = {}

    def work():
        try:
            generate(spec, out, workers=0, progress=False)
        except (SemantifyError, OSError, RuntimeError) as error:
            outcome["error"] = error

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    shards = -(-spec.samples // spec.shard_size)
    while thread.is_alive():
        done = len(list((out / "shards").glob("shard-*.safetensors")))
        report(0.05 + 0.6 * done / shards, f"generating samples: {done}/{shards} batches")
        thread.join(0.5)
    if "error" in outcome:
        error = outcome["error"]
        raise error if isinstance(error, SemantifyError) else SemantifyError(
            f"generation failed: {error}; try fewer samples.")


def choose_descriptors(data: Path, clip) -> list[str]:
    """Up to MAX_DESCRIPTORS disentangled descriptors: the family's words with CLIP (photos
    and text need words), the measurements without."""
    from semantify.dataset import open_dataset
    from semantify.descriptors import descriptor_values, select_descriptors, vocabulary

    dataset = open_dataset(data)
    candidates = vocabulary(dataset.family) if clip is not None else dataset.measurement_names
    if not candidates:
        raise SemantifyError("this model has no measurements; build it with a CLIP option.")
    values = descriptor_values(dataset, candidates)
    return select_descriptors(values, candidates, dataset.coefficients,
                              max_k=MAX_DESCRIPTORS).chosen


def build_sliders(model_id: str, kind: str, checkpoint: str | None, samples: int,
                  report: Callable[[float, str], None]) -> Path:
    """Build a slider set for ``model_id``; ``report(fraction, text)`` gets progress."""
    from lightning_modules.train import train
    from semantify.clip import load_clip
    from semantify.generation import GenerationSpec
    from semantify.measure import has_landmarks
    from semantify.models import ModelRef

    samples = int(samples or 0)
    if samples < MIN_SAMPLES:
        raise SemantifyError(f"build with at least {MIN_SAMPLES} samples (got {samples}).")
    report(0.0, "loading the model and CLIP")
    clip = clip_spec(kind, checkpoint)
    if clip is None and not has_landmarks(ModelRef(model_id).load()):
        raise SemantifyError(f"{model_id} has no body measurements, so 'metric only' cannot "
                             "describe it; choose a CLIP option.")
    if clip is not None:
        load_clip(clip)  # fail now, with the fix, if the weights cannot be found
    name = f"{model_id}-{kind}-{samples}-{time.strftime('%Y%m%d-%H%M%S')}"
    out = built_sets_dir() / name
    spec = GenerationSpec(model_id, samples, clip=None if clip is None else clip.to_dict())
    data = out.with_name(f"{name}.data")
    _generate(spec, data, report)
    report(0.7, "selecting descriptors")
    chosen = choose_descriptors(data, clip)
    report(0.8, f"training sliders for: {', '.join(chosen)}")
    train(data, chosen, out, progress=False)
    report(1.0, "done")
    return out
