"""Datasets of (coefficients, CLIP image embeddings, measurements), readable without our code.

Layout: ``DIR/manifest.json`` plus ``DIR/shards/shard-NNNNNN.safetensors``, one shard per
block of ``shard_size`` consecutive sample indices. A shard is written to a temporary name and
renamed, so a shard file that exists is complete.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from semantify.errors import SemantifyError
from semantify.files import check_format, read_json, write_atomic
from semantify.models.reference import ModelRef

FORMAT = "semantify-dataset"
VERSION = 1
MANIFEST = "manifest.json"
SHARDS = "shards"


def shard_path(root: Path, shard: int) -> Path:
    return Path(root) / SHARDS / f"shard-{shard:06d}.safetensors"


def write_shard(root: Path, shard: int, tensors: dict[str, torch.Tensor]) -> None:
    """Atomically write one shard (contiguous CPU tensors)."""
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    write_atomic(shard_path(root, shard), lambda tmp: save_file(tensors, tmp))


def read_manifest(root: Path) -> dict:
    """The manifest of the dataset at ``root``, or a one-line error."""
    path = Path(root) / MANIFEST
    if not path.is_file():
        raise SemantifyError(f"{root} is not a Semantify dataset (no {MANIFEST}); "
                             "create one with `semantify generate MODEL --out DIR`.")
    manifest = read_json(path, str(path), "regenerate the dataset")
    return check_format(manifest, FORMAT, VERSION, str(path),
                        "regenerate it with this version of Semantify.")


def num_shards(manifest: dict) -> int:
    return -(-manifest["samples"] // manifest["shard_size"])


class Dataset:
    """A complete generated dataset, loaded into memory, rows ordered by sample index.

    Attributes: ``manifest`` (dict), ``coefficients`` (N, C) float32, ``image_embeds``
    (N, V, D) float16 or None, ``measurements`` (N, M) float32 or None with
    ``measurement_names``, ``thumbnails`` (N, V, h, w, 3) uint8 or None.
    """

    def __init__(self, root: Path, manifest: dict, tensors: dict[str, torch.Tensor]):
        self.root, self.manifest = Path(root), manifest
        self.coefficients = tensors["coefficients"]
        self.image_embeds = tensors.get("image_embeds")
        self.measurements = tensors.get("measurements")
        self.thumbnails = tensors.get("thumbnails")
        self.measurement_names: list[str] = list(manifest.get("measurements") or [])

    def __len__(self) -> int:
        return self.coefficients.shape[0]

    @property
    def model_id(self) -> str:
        return self.manifest["model"]["id"]

    @property
    def model_options(self) -> dict:
        return dict(self.manifest["model"].get("options") or {})

    @property
    def family(self) -> str:
        return self.manifest["model"]["family"]

    @property
    def clip(self) -> dict | None:
        return self.manifest.get("clip")

    @functools.cached_property
    def clip_spec(self):
        """The :class:`semantify.clip.ClipSpec` that embedded the images (None without)."""
        from semantify.clip import ClipSpec

        return None if not self.clip else ClipSpec.from_dict(self.clip)

    @property
    def model_ref(self) -> ModelRef:
        return ModelRef.from_dict(self.manifest["model"], f"dataset {self.root}")


def open_dataset(root: Path | str, fields: Sequence[str] | None = None) -> Dataset:
    """Load the dataset at ``root``; refuse one with missing or inconsistent shards.

    ``fields``: the tensors to load besides ``coefficients`` (e.g. ``("image_embeds",
    "measurements")``; default all, thumbnails included). Each tensor is allocated once at its
    full size and filled shard by shard, so memory peaks at the dataset plus one shard.
    """
    root = Path(root)
    manifest = read_manifest(root)
    shards, samples, size = num_shards(manifest), manifest["samples"], manifest["shard_size"]
    missing = [s for s in range(shards) if not shard_path(root, s).is_file()]
    if missing:
        raise SemantifyError(
            f"{root} is incomplete: {len(missing)} of {shards} shards missing "
            f"(first: {missing[0]}); rerun the same `semantify generate` command to finish it.")
    wanted = None if fields is None else {"coefficients", *fields}
    # Filled with numpy: its copies are single-threaded, where torch's many small parallel
    # copies crawl on a busy machine (OpenMP threads spinning for cores they do not get).
    arrays: dict[str, np.ndarray] = {}
    filled: dict[str, int] = {}
    for shard in range(shards):
        start = shard * size
        part = _read_shard(shard_path(root, shard), wanted)
        indices = part.pop("indices", None)
        if indices is None or not np.array_equal(indices, np.arange(start, min(start + size,
                                                                                samples))):
            raise SemantifyError(f"{root} has duplicate or missing sample indices; "
                                 "regenerate it into an empty folder.")
        for key, value in part.items():
            if key not in arrays:
                arrays[key] = np.empty((samples, *value.shape[1:]), dtype=value.dtype)
            target = arrays[key]
            if target.shape[1:] != value.shape[1:] or target.dtype != value.dtype:
                raise SemantifyError(f"shard {shard_path(root, shard)} holds {key} of shape "
                                     f"{tuple(value.shape)} {value.dtype}, unlike the shards "
                                     "before it; regenerate the dataset into an empty folder.")
            target[start:start + len(value)] = value
            filled[key] = filled.get(key, 0) + len(value)
    partial = [key for key, rows in filled.items() if rows != samples]
    if partial or "coefficients" not in arrays:
        raise SemantifyError(f"{root} has shards without {(partial or ['coefficients'])[0]}; "
                             "regenerate it into an empty folder.")
    return Dataset(root, manifest, {key: torch.from_numpy(a) for key, a in arrays.items()})


def _read_shard(path: Path, wanted: set[str] | None) -> dict[str, np.ndarray]:
    """The arrays of one shard (only ``indices`` and ``wanted`` ones when given)."""
    try:
        with safe_open(path, "np") as file:
            return {key: file.get_tensor(key) for key in file.keys()
                    if wanted is None or key == "indices" or key in wanted}
    except Exception as error:  # safetensors raises several types for a damaged file
        raise SemantifyError(f"shard {path} is unreadable ({error}); delete it and rerun "
                             "the same `semantify generate` command to rebuild it.") from None
