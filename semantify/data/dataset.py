"""Datasets of (coefficients, CLIP image embeddings, measurements), readable without our code.

Layout: ``DIR/manifest.json`` plus ``DIR/shards/shard-NNNNNN.safetensors``, one shard per
block of ``shard_size`` consecutive sample indices. A shard is written to a temporary name and
renamed, so a shard file that exists is complete.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from semantify.errors import SemantifyError
from semantify.files import check_format, read_json, write_atomic, write_json_atomic
from semantify.models.reference import ModelRef
from semantify.pictures.appearance import DEFAULT_APPEARANCE

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


@dataclasses.dataclass(frozen=True)
class DatasetModel:
    """The model a dataset was sampled from, as its manifest records it."""

    id: str
    name: str = ""
    family: str = ""
    options: Mapping = dataclasses.field(default_factory=dict)
    coefficients: tuple[str, ...] = ()
    ranges: tuple[tuple[float, float], ...] = ()  # (C, 2): each coefficient's low, high

    @classmethod
    def of(cls, model, options: Mapping) -> DatasetModel:
        """The record of a loaded morphable ``model`` built with ``options``."""
        return cls(model.id, model.name, model.family, dict(options),
                   tuple(model.coefficient_names), tuple(map(tuple, model.ranges.tolist())))

    def to_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "family": self.family,
                "options": dict(self.options), "coefficients": list(self.coefficients),
                "ranges": [list(r) for r in self.ranges]}

    @classmethod
    def from_dict(cls, record: Mapping) -> DatasetModel:
        return cls(str(record["id"]), str(record.get("name", "")),
                   str(record.get("family", "")), dict(record.get("options") or {}),
                   tuple(record.get("coefficients") or ()),
                   tuple(tuple(r) for r in record.get("ranges") or ()))


@dataclasses.dataclass(frozen=True)
class Render:
    """How a dataset's samples were rendered. The defaults of ``pose`` and ``appearance`` are
    what older manifests, which did not record them, rendered."""

    size: int = 224
    framing: str = "full"
    background: tuple[int, int, int] = (0, 0, 0)
    pose: str = "rest"  # a pose name, or a pose file's absolute path
    appearance: str = DEFAULT_APPEARANCE

    def to_dict(self) -> dict:
        return {**dataclasses.asdict(self), "background": list(self.background)}

    @classmethod
    def from_dict(cls, record: Mapping) -> Render:
        known = {f.name for f in dataclasses.fields(cls)}
        render = cls(**{k: v for k, v in record.items() if k in known})
        return dataclasses.replace(render, background=tuple(render.background))


@dataclasses.dataclass(frozen=True)
class Manifest:
    """A dataset's ``manifest.json``: what its samples are and how they were made.

    ``clip`` is the :meth:`semantify.clip.ClipSpec.to_dict` record (None: no images), parsed
    by :meth:`clip_spec`; ``prior`` the sampling prior's record (``semantify.models.prior``).
    Files written before a field existed load with its default.
    """

    samples: int
    shard_size: int
    model: DatasetModel | None = None
    seed: int = 0
    views: tuple[str, ...] = ()
    clip: Mapping | None = None
    render: Render | None = None
    thumbnails: int = 0  # thumbnail side in pixels, 0 for none
    measurements: tuple[str, ...] = ()
    prior: Mapping | None = None
    semantify_version: str = ""

    @property
    def num_shards(self) -> int:
        return -(-self.samples // self.shard_size)

    def shard_indices(self, shard: int) -> torch.Tensor:
        """(n,) int64 sample indices of ``shard``."""
        start = shard * self.shard_size
        return torch.arange(start, min(start + self.shard_size, self.samples))

    def clip_spec(self):
        """The :class:`semantify.clip.ClipSpec` that embedded the images (None without)."""
        from semantify.clip import ClipSpec

        return None if not self.clip else ClipSpec.from_dict(self.clip)

    @property
    def model_ref(self) -> ModelRef:
        return ModelRef.from_dict(self.model.to_dict() if self.model else None, "the dataset")

    def to_dict(self) -> dict:
        """The JSON of ``manifest.json`` (what :meth:`from_dict` reads back)."""
        return {
            "format": FORMAT, "version": VERSION,
            "model": self.model.to_dict() if self.model else None,
            "samples": self.samples, "seed": self.seed, "shard_size": self.shard_size,
            "views": list(self.views), "clip": None if self.clip is None else dict(self.clip),
            "render": self.render.to_dict() if self.render else None,
            "thumbnails": self.thumbnails, "measurements": list(self.measurements),
            "prior": None if self.prior is None else dict(self.prior),
            "semantify_version": self.semantify_version,
        }

    @classmethod
    def from_dict(cls, record: Mapping, where: str = "manifest") -> Manifest:
        """The manifest of a :meth:`to_dict` record (format already checked), or one line."""
        try:
            manifest = cls(
                int(record["samples"]), int(record["shard_size"]),
                DatasetModel.from_dict(record["model"]) if record.get("model") else None,
                int(record.get("seed", 0)), tuple(record.get("views") or ()),
                record.get("clip") or None,
                Render.from_dict(record["render"]) if record.get("render") else None,
                int(record.get("thumbnails") or 0), tuple(record.get("measurements") or ()),
                record.get("prior"), str(record.get("semantify_version", "")))
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise SemantifyError(f"{where} lacks or mistypes {error}; regenerate the dataset "
                                 "with this version of Semantify.") from None
        if manifest.samples < 1 or manifest.shard_size < 1:
            raise SemantifyError(f"{where} has {manifest.samples} samples in shards of "
                                 f"{manifest.shard_size}; regenerate the dataset.")
        return manifest


def read_manifest(root: Path) -> Manifest:
    """The manifest of the dataset at ``root``, or a one-line error."""
    path = Path(root) / MANIFEST
    if not path.is_file():
        raise SemantifyError(f"{root} is not a Semantify dataset (no {MANIFEST}); "
                             "create one with `semantify generate MODEL --out DIR`.")
    record = read_json(path, str(path), "regenerate the dataset")
    check_format(record, FORMAT, VERSION, str(path),
                 "regenerate it with this version of Semantify.")
    return Manifest.from_dict(record, str(path))


def write_manifest(root: Path, manifest: Manifest) -> None:
    """Write ``root``'s ``manifest.json`` atomically."""
    write_json_atomic(Path(root) / MANIFEST, manifest.to_dict())


class Dataset:
    """A complete generated dataset, loaded into memory, rows ordered by sample index.

    Attributes: ``manifest`` (:class:`Manifest`), ``coefficients`` (N, C) float32,
    ``image_embeds`` (N, V, D) float16 or None, ``measurements`` (N, M) float32 or None with
    ``measurement_names``, ``thumbnails`` (N, V, h, w, 3) uint8 or None.
    """

    def __init__(self, root: Path, manifest: Manifest, tensors: dict[str, torch.Tensor]):
        self.root, self.manifest = Path(root), manifest
        self.coefficients = tensors["coefficients"]
        self.image_embeds = tensors.get("image_embeds")
        self.measurements = tensors.get("measurements")
        self.thumbnails = tensors.get("thumbnails")
        self.measurement_names: list[str] = list(manifest.measurements)

    def __len__(self) -> int:
        return self.coefficients.shape[0]

    @property
    def model_id(self) -> str:
        return self.model_ref.id

    @property
    def model_options(self) -> dict:
        return dict(self.model_ref.options)

    @property
    def family(self) -> str:
        return self.manifest.model.family if self.manifest.model else ""

    @property
    def clip(self) -> Mapping | None:
        """The manifest's CLIP record (None: no images were embedded)."""
        return self.manifest.clip

    @functools.cached_property
    def clip_spec(self):
        """The :class:`semantify.clip.ClipSpec` that embedded the images (None without)."""
        return self.manifest.clip_spec()

    @functools.cached_property
    def model_ref(self) -> ModelRef:
        return ModelRef.from_dict(self.manifest.model.to_dict() if self.manifest.model else None,
                                  f"dataset {self.root}")


def open_dataset(root: Path | str, fields: Sequence[str] | None = None) -> Dataset:
    """Load the dataset at ``root``; refuse one with missing or inconsistent shards.

    ``fields``: the tensors to load besides ``coefficients`` (e.g. ``("image_embeds",
    "measurements")``; default all, thumbnails included). Each tensor is allocated once at its
    full size and filled shard by shard, so memory peaks at the dataset plus one shard.
    """
    root = Path(root)
    manifest = read_manifest(root)
    shards, samples, size = manifest.num_shards, manifest.samples, manifest.shard_size
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
