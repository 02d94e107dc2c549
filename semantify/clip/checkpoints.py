"""Local CLIP checkpoints: find the weights file and fingerprint it (no open_clip needed)."""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

from semantify.errors import SemantifyError

CONFIG_NAME = "open_clip_config.json"
# Weights file names open_clip and the Hugging Face Hub use, most preferred first.
WEIGHT_NAMES = ("open_clip_model.safetensors", "open_clip_pytorch_model.safetensors",
                "open_clip_pytorch_model.bin", "model.safetensors", "pytorch_model.bin")
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")
# What open_clip downloads from a Hub repo whose tag names no file, most preferred first.
HUB_WEIGHT_NAMES = ("open_clip_model.safetensors", "open_clip_pytorch_model.bin")


def weights_file(path: str | os.PathLike) -> Path:
    """The weights file of checkpoint ``path``: the file itself, or the one in a directory."""
    path = Path(path).expanduser()
    if path.is_file():
        return path
    if not path.is_dir():
        raise SemantifyError(f"CLIP checkpoint {path} does not exist; pass the path of a "
                             "downloaded open_clip weights file (or of its directory).")
    for name in WEIGHT_NAMES:
        if (path / name).is_file():
            return path / name
    found = sorted(p for p in path.iterdir() if p.suffix in WEIGHT_SUFFIXES and p.is_file())
    if len(found) != 1:
        what = "no weights file" if not found else f"{len(found)} weights files"
        raise SemantifyError(
            f"CLIP checkpoint directory {path} holds {what}; put exactly one "
            f"{'/'.join(WEIGHT_SUFFIXES)} file there (e.g. {WEIGHT_NAMES[0]}), or pass the file.")
    return found[0]


def config_file(path: str | os.PathLike) -> Path | None:
    """The ``open_clip_config.json`` next to checkpoint ``path`` if it is a directory."""
    config = Path(path).expanduser() / CONFIG_NAME
    return config if config.is_file() else None


def sha256(path: str | os.PathLike) -> str:
    """Hex sha256 of the weights of checkpoint ``path`` (cached while the file is unchanged)."""
    file = weights_file(path).resolve()
    stat = file.stat()
    return _file_sha256(str(file), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=32)
def _file_sha256(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()
