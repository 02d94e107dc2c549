"""Datasets of (coefficients, CLIP image embeddings, measurements), readable without our code.

Layout: ``DIR/manifest.json`` plus ``DIR/shards/shard-NNNNNN.safetensors``, one shard per
block of ``shard_size`` consecutive sample indices. A shard is written to a temporary name and
renamed, so a shard file that exists is complete.
"""

from __future__ import annotations

import functools
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from semantify.errors import SemantifyError
from semantify.files import read_json, write_atomic
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
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise SemantifyError(f"{path} is not a {FORMAT} v{VERSION} manifest; "
                             "regenerate it with this version of Semantify.")
    return manifest


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


def open_dataset(root: Path | str) -> Dataset:
    """Load the dataset at ``root``; refuse one with missing or inconsistent shards."""
    root = Path(root)
    manifest = read_manifest(root)
    parts: dict[str, list[torch.Tensor]] = {}
    missing = []
    for shard in range(num_shards(manifest)):
        path = shard_path(root, shard)
        if not path.is_file():
            missing.append(shard)
            continue
        try:
            tensors = load_file(path)
        except Exception as error:  # safetensors raises several types for a damaged file
            raise SemantifyError(f"shard {path} is unreadable ({error}); delete it and rerun "
                                 "the same `semantify generate` command to rebuild it.") from None
        for key, value in tensors.items():
            parts.setdefault(key, []).append(value)
    if missing:
        raise SemantifyError(
            f"{root} is incomplete: {len(missing)} of {num_shards(manifest)} shards missing "
            f"(first: {missing[0]}); rerun the same `semantify generate` command to finish it.")
    tensors = {key: torch.cat(values) for key, values in parts.items()}
    indices = tensors.pop("indices")
    if not torch.equal(indices, torch.arange(manifest["samples"])):
        raise SemantifyError(f"{root} has duplicate or missing sample indices; "
                             "regenerate it into an empty folder.")
    return Dataset(root, manifest, tensors)
