"""Disk cache of descriptor text embeddings, one safetensors file per (model, prompt).

Files live in ``$SEMANTIFY_CACHE_DIR/clip-text`` (default ``~/.cache/semantify``), named by
the sha256 of the model's identity, the template and the descriptor (plus a format version),
and are written to a temporary file then renamed, so readers never see half a file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

VERSION = 1


def cache_dir() -> Path:
    """Where text embeddings are cached (read from the environment on every call)."""
    from semantify.paths import text_embeddings_dir

    return text_embeddings_dir()


def key(identity: dict, template: str, descriptor: str) -> str:
    """Hex sha256 naming the embedding of ``descriptor`` in ``template`` for a model."""
    record = {"version": VERSION, "model": identity, "template": template,
              "descriptor": descriptor}
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()


def read(name: str) -> torch.Tensor | None:
    """The cached (D,) float32 embedding called ``name``, or None (missing or unreadable)."""
    path = cache_dir() / f"{name}.safetensors"
    try:
        return load_file(path)["embedding"]
    except (OSError, SafetensorError, KeyError):
        return None


def write(name: str, embedding: torch.Tensor) -> None:
    """Store a (D,) embedding atomically; a read-only cache directory is skipped silently."""
    directory = cache_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=directory, suffix=".tmp")
        os.close(handle)
        try:
            save_file({"embedding": embedding.to(torch.float32).contiguous()}, temporary,
                      metadata={"version": str(VERSION)})
            os.replace(temporary, directory / f"{name}.safetensors")
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
    except OSError:
        return
