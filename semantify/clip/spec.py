"""Which CLIP to use: an open_clip architecture plus its weights (hub tag or local file)."""

from __future__ import annotations

import dataclasses
import difflib
import re
from pathlib import Path

from semantify.clip import checkpoints
from semantify.errors import SemantifyError

DEFAULT_NAME = "ViT-B-32"
DEFAULT_PRETRAINED = "laion2b_s34b_b79k"
# A registered open_clip architecture with random weights, for tests and CPU benchmarks.
TINY_RANDOM = "tiny-random"
TINY_RANDOM_NAME = "semantify-tiny-random-NOT-SEMANTIC"
# The ground-truth TEST encoder (semantify.clip.geometry): measures the figure, is not CLIP.
GEOMETRY = "geometry"
RANDOM_TAG = "random"  # "NAME/random": the architecture with seeded random weights
SHA_CHARS = 16  # characters of the checkpoint's sha256 recorded in manifests


@dataclasses.dataclass(frozen=True)
class ClipSpec:
    """An open_clip model ``name`` with weights from hub tag ``pretrained`` or ``checkpoint``.

    With neither, the weights are random (seeded, identical across runs): only useful for
    tests and benchmarks, never for meaning (:attr:`is_semantic` is False).

    ``int8``: on CPU, the image tower's Linear layers run dynamically quantised to int8
    (faster; see ``bench/clip_int8.py`` for its agreement with fp32). The text tower, and any
    GPU, keep their usual precision.
    """

    name: str = DEFAULT_NAME
    pretrained: str | None = DEFAULT_PRETRAINED
    checkpoint: str | None = None
    int8: bool = False

    @classmethod
    def parse(cls, text: str | None = None, checkpoint: str | None = None) -> ClipSpec:
        """``None`` (the default), ``"tiny-random"``, ``"NAME"``, ``"NAME/TAG"`` or
        ``"NAME/random"``; a ``checkpoint`` path replaces the tag's weights.

        ``"NAME"`` alone means the default tag for the default model; any other model needs a
        tag (or a checkpoint), so that a record always says which weights were used.
        """
        checkpoint = str(checkpoint) if checkpoint else None
        text = (text or "").strip()
        if text == TINY_RANDOM:
            return cls(TINY_RANDOM_NAME, None, checkpoint)
        if text == GEOMETRY:
            if checkpoint:
                raise SemantifyError("--clip geometry is a test encoder with no weights; drop "
                                     "--clip-checkpoint.")
            return cls(GEOMETRY, None, None)
        if not text:
            text = DEFAULT_NAME
        if not re.fullmatch(r"[^/\s]+(/[^/\s]+)?", text):
            raise SemantifyError(f"cannot read CLIP model {text!r}; write NAME or NAME/TAG, "
                                 f"e.g. {DEFAULT_NAME}/{DEFAULT_PRETRAINED}, or {TINY_RANDOM} or "
                                 f"{GEOMETRY} (test encoders).")
        name, _, tag = text.partition("/")
        if checkpoint:
            return cls(name, None, checkpoint)
        if tag == RANDOM_TAG or name == TINY_RANDOM_NAME:
            return cls(name, None, None)
        if tag:
            return cls(name, tag, None)
        if name == DEFAULT_NAME:
            return cls(name, DEFAULT_PRETRAINED, None)
        close = difflib.get_close_matches(name.lower(), [GEOMETRY, TINY_RANDOM], n=1,
                                          cutoff=0.75)
        if close:
            raise SemantifyError(f"unknown encoder {name!r}; did you mean {close[0]}? (test "
                                 f"encoders: {GEOMETRY}, {TINY_RANDOM}; or a CLIP NAME/TAG)")
        raise SemantifyError(
            f"CLIP model {name} needs its weights: write {name}/TAG with a pretrained tag "
            f"(`python -c \"import open_clip; print(open_clip.list_pretrained_tags_by_model("
            f"'{name}'))\"`), or pass --clip-checkpoint PATH.")

    @property
    def is_geometry(self) -> bool:
        """True for the ground-truth test encoder (:mod:`semantify.clip.geometry`): its scores
        measure the figure's silhouette, so they mean something, but it is not CLIP."""
        return self.name == GEOMETRY

    @property
    def is_random(self) -> bool:
        """True when no weights are loaded (seeded random initialisation)."""
        return self.pretrained is None and self.checkpoint is None and not self.is_geometry

    @property
    def is_semantic(self) -> bool:
        """False for random weights (tiny-random, NAME/random): their scores mean nothing."""
        return self.name != TINY_RANDOM_NAME and not self.is_random

    @property
    def label(self) -> str:
        """A short human-readable name, e.g. ``ViT-B-32/laion2b_s34b_b79k``."""
        if self.is_geometry:
            return f"{GEOMETRY} (TEST ENCODER, not CLIP: measures the silhouette)"
        if self.name == TINY_RANDOM_NAME and self.is_random:
            return f"{TINY_RANDOM} (NOT SEMANTIC: random weights, for tests)"
        if self.is_random:
            return (f"{self.name}/{RANDOM_TAG}" + (" int8" if self.int8 else "")
                    + " (NOT SEMANTIC: random weights)")
        weights = self.pretrained or f"checkpoint {Path(self.checkpoint).name}"
        return (f"{self.name}/{weights}" + (" int8" if self.int8 else "")
                + ("" if self.is_semantic else " (NOT SEMANTIC)"))

    def checkpoint_sha256(self) -> str | None:
        """Short sha256 of the checkpoint's weights file, or None without a checkpoint."""
        return checkpoints.sha256(self.checkpoint)[:SHA_CHARS] if self.checkpoint else None

    def to_dict(self) -> dict:
        """JSON-friendly record for dataset manifests and slider sets (``int8`` only when set,
        so records written before it existed still compare equal)."""
        record = {"name": self.name, "pretrained": self.pretrained, "checkpoint": self.checkpoint,
                  "checkpoint_sha256": self.checkpoint_sha256(), "label": self.label}
        if self.is_geometry:  # its "weights": the lexicon the scores were made with
            from semantify.clip.geometry import lexicon_sha256

            record["lexicon_sha256"] = lexicon_sha256()
        return {**record, "int8": True} if self.int8 else record

    @classmethod
    def from_dict(cls, record: dict) -> ClipSpec:
        """The spec of a :meth:`to_dict` record; refuses a checkpoint file that has changed, or
        a geometry record of another lexicon."""
        spec = cls(record["name"], record.get("pretrained"), record.get("checkpoint"),
                   bool(record.get("int8", False)))
        if spec.is_geometry:
            from semantify.clip.geometry import lexicon_sha256

            if record.get("lexicon_sha256") != lexicon_sha256():
                raise SemantifyError(
                    "made with another version of the geometry test encoder's lexicon, whose "
                    "scores this one cannot reproduce; rebuild it with --clip geometry.")
        expected = record.get("checkpoint_sha256")
        if spec.checkpoint and expected and Path(spec.checkpoint).expanduser().exists():
            actual = spec.checkpoint_sha256()
            if actual != expected:
                raise SemantifyError(
                    f"CLIP checkpoint {spec.checkpoint} has changed (sha256 {actual}, recorded "
                    f"{expected}); restore the original file or pass the right one with "
                    "--clip-checkpoint.")
        return spec

    def identity(self) -> dict:
        """What the weights depend on (the checkpoint's content, not its path): a cache key.
        ``int8`` is left out: it changes the image tower only, never a text embedding."""
        return {"name": self.name, "pretrained": self.pretrained,
                "checkpoint_sha256": checkpoints.sha256(self.checkpoint) if self.checkpoint
                else None}
