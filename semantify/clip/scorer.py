"""The CLIP scorer: images and descriptors to L2-normalised embeddings (float32, CPU)."""

from __future__ import annotations

import contextlib
import threading

import torch
from PIL import Image

from semantify.clip import images as image_ops
from semantify.clip import text_cache
from semantify.clip.loading import LoadedClip, build
from semantify.clip.prompts import fill
from semantify.clip.spec import ClipSpec
from semantify.errors import SemantifyError

_SCORERS: dict[tuple[ClipSpec, str], ClipScorer] = {}
_SCORERS_LOCK = threading.Lock()


def default_device() -> str:
    """``cuda`` when a GPU is available, else ``cpu``."""
    return "cuda" if torch.cuda.is_available() else "cpu"


def load_clip(spec: ClipSpec, device: str | None = None) -> ClipScorer:
    """The scorer of ``spec`` on ``device`` (default: CUDA if available), built once per
    process and shared between threads."""
    device = torch.device(device or default_device())
    if device.type == "cuda" and device.index is None:  # "cuda" and "cuda:0": one scorer
        device = torch.device("cuda", torch.cuda.current_device())
    device = str(device)
    with _SCORERS_LOCK:
        if (spec, device) not in _SCORERS and spec.is_geometry:
            from semantify.clip.geometry import GeometryScorer

            _SCORERS[(spec, device)] = GeometryScorer(spec, device)
        elif (spec, device) not in _SCORERS:
            _SCORERS[(spec, device)] = ClipScorer(spec, build(spec), device)
        return _SCORERS[(spec, device)]


def clear_cache() -> None:
    """Forget the scorers :func:`load_clip` built (their weights are freed when unused)."""
    with _SCORERS_LOCK:
        _SCORERS.clear()


def quantized_image_tower(visual: torch.nn.Module) -> torch.nn.Module:
    """``visual`` with its Linear layers dynamically quantised to int8 (CPU only)."""
    import warnings

    try:
        from torch.ao.quantization import quantize_dynamic
    except ImportError:
        raise SemantifyError("this torch has no dynamic int8 quantisation "
                             "(torch.ao.quantization); drop --int8.") from None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization warns that it is deprecated
        return quantize_dynamic(visual, {torch.nn.Linear}, dtype=torch.qint8)


class ClipScorer:
    """Embeds images and descriptors with one CLIP model.

    On CUDA the model runs under float16 autocast (``dtype``); on CPU in float32. Outputs
    are always float32 on CPU, L2-normalised.
    """

    def __init__(self, spec: ClipSpec, loaded: LoadedClip, device: str):
        self.spec = spec
        self.device = torch.device(device)
        self.dtype = torch.float16 if self.device.type == "cuda" else torch.float32
        self.embed_dim = loaded.embed_dim
        self.image_size = loaded.image_size
        self._loaded = loaded
        self._model = loaded.model.to(self.device)
        if spec.int8 and self.device.type == "cpu":
            self._model.visual = quantized_image_tower(self._model.visual)
        self._texts: dict[str, torch.Tensor] = {}
        self._texts_lock = threading.Lock()
        self._identity = None

    def __repr__(self) -> str:
        return f"ClipScorer({self.spec.label}, device={self.device}, dtype={self.dtype})"

    def _autocast(self):
        if self.dtype == torch.float32:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.dtype)

    def encode_images(self, images, batch_size: int = 64) -> torch.Tensor:
        """uint8 (N, H, W, 3) numpy array or tensor -> float32 (N, D) normalised, on CPU.

        Images of another size are letterboxed and resized to :attr:`image_size`.
        """
        pixels = image_ops.as_uint8_batch(images)
        out = torch.empty(len(pixels), self.embed_dim, dtype=torch.float32)
        with torch.inference_mode(), self._autocast():
            for start in range(0, len(pixels), batch_size):
                batch = pixels[start:start + batch_size].to(self.device, non_blocking=True)
                x = image_ops.normalise(batch, self.image_size, self._loaded.mean,
                                        self._loaded.std)
                embeds = self._model.encode_image(x).to(torch.float32)
                out[start:start + len(batch)] = torch.nn.functional.normalize(embeds, dim=-1)
        return out

    def encode_photo(self, image: Image.Image) -> torch.Tensor:
        """A photo (any PIL mode and size) -> float32 (D,) normalised; letterboxed, not
        cropped, so the whole person stays in."""
        square = image_ops.prepare_photo(image, self.image_size)
        return self.encode_images(square[None])[0]

    def encode_text(self, descriptors: list[str], template: str = "{}") -> torch.Tensor:
        """float32 (K, D) normalised embeddings of ``template`` filled with each descriptor.

        Each is computed once per (model, template, descriptor), then read from memory or from
        the disk cache (see :mod:`semantify.clip.text_cache`).
        """
        if isinstance(descriptors, str):
            raise SemantifyError(f"encode_text takes a list of descriptors, got the string "
                                 f"{descriptors!r}; wrap it in a list.")
        prompts = [fill(template, d) for d in descriptors]
        keys = [text_cache.key(self._model_identity(), template, d) for d in descriptors]
        with self._texts_lock:
            missing = [k for k in dict.fromkeys(keys) if k not in self._texts]
            for k in missing:
                cached = text_cache.read(k)
                if cached is not None and cached.shape == (self.embed_dim,):
                    self._texts[k] = cached
            todo = {k: p for k, p in zip(keys, prompts) if k not in self._texts}
            if todo:
                embeds = self._encode_prompts(list(todo.values()))
                for k, embed in zip(todo, embeds):
                    self._texts[k] = embed
                    text_cache.write(k, embed)
            if not keys:
                return torch.empty(0, self.embed_dim, dtype=torch.float32)
            return torch.stack([self._texts[k] for k in keys])

    def embed_prompt(self, prompt: str) -> tuple[torch.Tensor, bool]:
        """float32 (D,) normalised embedding of a free-text ``prompt`` (not cached: prompts are
        users' text) and whether it fitted CLIP's context (False: only its start was read)."""
        tokens = self._loaded.tokenizer([prompt])
        fitted = bool(tokens[0, -1] == 0)  # the last position is padding unless it was cut
        return self._encode_prompts([prompt])[0], fitted

    def _encode_prompts(self, prompts: list[str], batch_size: int = 256) -> torch.Tensor:
        """(K,) prompts -> float32 (K, D) normalised, computed by the model."""
        chunks = []
        with torch.inference_mode(), self._autocast():
            for start in range(0, len(prompts), batch_size):
                tokens = self._loaded.tokenizer(prompts[start:start + batch_size])
                embeds = self._model.encode_text(tokens.to(self.device)).to(torch.float32)
                chunks.append(torch.nn.functional.normalize(embeds, dim=-1).cpu())
        return torch.cat(chunks)

    def _model_identity(self) -> dict:
        if self._identity is None:
            self._identity = self.spec.identity()
        return self._identity

