"""Build an open_clip model from a :class:`ClipSpec`: the one place CLIP weights are resolved.

Weights come from a hub tag (downloaded into the Hugging Face cache), a local checkpoint file,
a local directory with ``open_clip_config.json`` and weights, or nowhere (seeded random
initialisation). Every failure is a one-line :class:`SemantifyError` naming the fix.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import threading
from collections.abc import Callable
from pathlib import Path

import torch

from semantify.clip import checkpoints
from semantify.clip.spec import TINY_RANDOM_NAME, ClipSpec
from semantify.errors import SemantifyError
from semantify.files import read_json

CONFIG_DIR = Path(__file__).parent / "model_configs"
INIT_SEED = 0  # random weights are drawn from this seed, so they match across runs


@dataclasses.dataclass(frozen=True)
class LoadedClip:
    """An eval-mode fp32 model on CPU and what it needs around it."""

    model: torch.nn.Module
    tokenizer: Callable[[list[str]], torch.Tensor]
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    image_size: int
    embed_dim: int


@functools.cache
def import_open_clip():
    """open_clip, imported after the torchvision fix, with our tiny random config registered."""
    from semantify.compat import ensure_torchvision

    ensure_torchvision()
    import open_clip

    open_clip.add_model_config(CONFIG_DIR / f"{TINY_RANDOM_NAME}.json")
    return open_clip


def _local_config(path: Path) -> dict:
    """The ``model_cfg`` of a checkpoint directory's open_clip_config.json, or one line."""
    fix = "put the open_clip_config.json that came with the weights there, or remove it"
    config = read_json(path, f"CLIP config {path}", fix)
    if not isinstance(config, dict) or not isinstance(config.get("model_cfg"), dict):
        raise SemantifyError(f"CLIP config {path} has no model_cfg object; {fix}.")
    return config["model_cfg"]


def build(spec: ClipSpec) -> LoadedClip:
    """The model of ``spec``, its tokenizer and image normalisation."""
    open_clip = import_open_clip()
    config_file = checkpoints.config_file(spec.checkpoint) if spec.checkpoint else None
    if config_file:
        architecture = f"local-dir:{config_file.parent}"
        model_config = _local_config(config_file)
    else:
        architecture = spec.name
        model_config = _model_config(open_clip, spec.name)
    tag_config = _tag_config(open_clip, spec) if spec.pretrained else {}
    if spec.pretrained:
        weights = _download(open_clip, spec, tag_config)
    else:
        weights = checkpoints.weights_file(spec.checkpoint) if spec.checkpoint else None
    model = _create(open_clip, architecture, tag_config.get("quick_gelu", False))
    if weights is not None:
        _load_weights(open_clip, model, weights, spec)
    model.eval().requires_grad_(False)
    preprocess = open_clip.get_model_preprocess_cfg(model)
    size = preprocess["size"]
    return LoadedClip(
        model=model,
        tokenizer=open_clip.get_tokenizer(architecture),
        mean=tuple(tag_config.get("mean", preprocess["mean"])),
        std=tuple(tag_config.get("std", preprocess["std"])),
        image_size=int(size if isinstance(size, int) else size[0]),
        embed_dim=int(model_config["embed_dim"]),
    )


def _model_config(open_clip, name: str) -> dict:
    config = open_clip.get_model_config(name)
    if config is None:
        names = open_clip.list_models()
        close = difflib.get_close_matches(name, names, n=3)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        common = ", ".join(n for n in ("ViT-B-32", "ViT-B-16", "ViT-L-14", "RN50") if n in names)
        raise SemantifyError(
            f"unknown CLIP model {name!r}; {hint}available include {common} ({len(names)} in "
            "all: open_clip.list_models()); or use tiny-random for tests.")
    return config


def _tag_config(open_clip, spec: ClipSpec) -> dict:
    config = open_clip.get_pretrained_cfg(spec.name, spec.pretrained)
    if not config:
        tags = open_clip.list_pretrained_tags_by_model(spec.name)
        shown = ", ".join(tags[:8]) + (f", ... ({len(tags)} in all)" if len(tags) > 8 else "")
        valid = f"valid tags: {shown}" if tags else "it has no pretrained tags"
        raise SemantifyError(
            f"unknown pretrained tag {spec.pretrained!r} for CLIP model {spec.name}; {valid}; "
            "or pass a local file with --clip-checkpoint PATH.")
    return config


def hub_repo_id(spec: ClipSpec) -> str | None:
    """The Hugging Face repository ``OWNER/NAME`` that holds the weights of ``spec``'s hub tag
    (None for random weights, a local checkpoint, or a tag served from a plain URL)."""
    if not spec.pretrained:
        return None
    hub = _tag_config(import_open_clip(), spec).get("hf_hub", "")
    parts = [part for part in hub.split("/") if part]
    return "/".join(parts[:2]) if len(parts) >= 2 else None


def weights_cached(spec: ClipSpec) -> bool:
    """Whether the weights of ``spec``'s hub tag are already on this machine (no network
    asked; False for random weights, a local checkpoint or an unknown tag)."""
    if not spec.pretrained:
        return False
    try:
        hub = _tag_config(import_open_clip(), spec).get("hf_hub", "")
    except SemantifyError:
        return False
    return bool(hub) and _hf_cached(hub.rstrip("/"), hub) is not None


Progress = Callable[[int, "int | None"], None]  # (bytes done, total bytes or None)


def fetch_weights(spec: ClipSpec, progress: Progress | None = None) -> Path | None:
    """Make sure the weights of ``spec`` are on this machine and return their file (None for
    random weights): a hub tag's file is downloaded once into the Hugging Face cache, telling
    ``progress(bytes done, total)`` as it comes. Fails as :func:`build` does, in one line."""
    if not spec.pretrained:
        return checkpoints.weights_file(spec.checkpoint) if spec.checkpoint else None
    open_clip = import_open_clip()
    return _download(open_clip, spec, _tag_config(open_clip, spec), progress)


def _download(open_clip, spec: ClipSpec, tag_config: dict,
              progress: Progress | None = None) -> Path:
    """The weights file of a hub tag: from the local cache if there (hub tags never change,
    so no update check), else downloaded; an unreachable hub fails at once, without retries."""
    hub = tag_config.get("hf_hub", "").rstrip("/")
    cached = _hf_cached(hub, tag_config["hf_hub"]) if hub else None
    if cached is not None:
        return cached
    reason = _hub_unreachable() if hub else None
    if reason is None:
        try:
            if hub and progress is not None:
                return _hub_download(tag_config["hf_hub"], progress)
            return Path(open_clip.download_pretrained(tag_config))
        except (OSError, RuntimeError, ValueError) as error:  # hub errors: OSError or wrapped
            reason = _first_line(error, 80)
    raise _unreachable(spec, tag_config, reason)


def check_weights_reachable(spec: ClipSpec) -> None:
    """Refuse at once, in :func:`fetch_weights`'s one line, a hub tag whose weights are not on
    this machine while the Hub cannot be reached: off (HF_HUB_OFFLINE), no DNS answer, no
    route (a probe of at most a few seconds, not a download)."""
    if spec.pretrained and not weights_cached(spec):
        reason = _hub_unreachable()
        if reason is not None:
            raise _unreachable(spec, _tag_config(import_open_clip(), spec), reason)


def _unreachable(spec: ClipSpec, tag_config: dict, reason: str) -> SemantifyError:
    hub = tag_config.get("hf_hub", "").rstrip("/")
    source = f"huggingface.co/{hub}" if hub else tag_config.get("url", "the hub")
    return SemantifyError(
        f"cannot get CLIP weights {spec.name}/{spec.pretrained}: not in the local cache and "
        f"{source} is unreachable ({reason}); download the checkpoint on a machine with "
        "internet and pass --clip-checkpoint PATH, or copy a Hugging Face cache that has it "
        "here (HF_HOME) and set HF_HUB_OFFLINE=1.")


def _hub_download(hub_entry: str, progress: Progress) -> Path:
    """Download the weights named by an open_clip ``hf_hub`` entry (``org/repo/`` or
    ``org/repo/FILE``) as open_clip would (a safetensors file first), reporting progress."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError

    repo_id, filename = hub_entry.rstrip("/"), None
    if not hub_entry.endswith("/") and hub_entry.count("/") >= 2:
        repo_id, filename = hub_entry.rsplit("/", 1)
    names = [filename] if filename else list(checkpoints.HUB_WEIGHT_NAMES)
    if filename and filename.endswith(".bin"):
        names.insert(0, filename[:-4] + ".safetensors")
    for name in names:
        try:
            return Path(hf_hub_download(repo_id, name, tqdm_class=_progress_bar(progress)))
        except EntryNotFoundError:
            continue
    raise OSError(f"no weights file ({', '.join(names)}) in {repo_id}")


def _progress_bar(progress: Progress):
    """A silent tqdm class that passes each update on to ``progress(done, total)``."""
    from tqdm.auto import tqdm

    class Bar(tqdm):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **{**kwargs, "disable": True})
            self.done = int(kwargs.get("initial") or 0)
            progress(self.done, self.total)

        def update(self, n=1):
            self.done += int(n or 0)
            progress(self.done, self.total)

    return Bar


def _hf_cached(repo_id: str, hub_entry: str) -> Path | None:
    """A weights file of ``repo_id`` already in the Hugging Face cache, if any."""
    from huggingface_hub import try_to_load_from_cache

    named = hub_entry.rstrip("/") != repo_id and Path(hub_entry).name
    for filename in ([named] if named else []) + list(checkpoints.WEIGHT_NAMES):
        found = try_to_load_from_cache(repo_id, filename)
        if isinstance(found, str):
            return Path(found)
    return None


def _hub_unreachable(timeout: float = 5.0) -> str | None:
    """Why the Hugging Face Hub cannot be reached (offline mode, no route), or None."""
    import socket
    from urllib.parse import urlparse

    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return "HF_HUB_OFFLINE is set"
    endpoint = urlparse(constants.ENDPOINT)
    port = endpoint.port or (443 if endpoint.scheme == "https" else 80)
    found: list = []  # the address, or the lookup's error: a resolver can stall for minutes
    lookup = threading.Thread(target=_resolve, args=(endpoint.hostname, port, found),
                              daemon=True)
    lookup.start()
    lookup.join(timeout)
    if not found:
        return f"{endpoint.hostname}: no answer from DNS in {timeout:.0f} s"
    if isinstance(found[0], OSError):
        return f"{endpoint.hostname}: {found[0].strerror or found[0]}"
    try:
        socket.create_connection(found[0], timeout=timeout).close()
    except OSError as error:
        return f"{endpoint.hostname}: {error.strerror or error}"
    return None


def _resolve(host: str, port: int, found: list) -> None:
    """Append ``host``'s first (address, port), or the lookup's OSError, to ``found``."""
    import socket

    try:
        found.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][4][:2])
    except OSError as error:
        found.append(error)


def _create(open_clip, architecture: str, quick_gelu: bool) -> torch.nn.Module:
    """The architecture with seeded random weights, without touching the global RNG."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(INIT_SEED)
        try:
            return open_clip.create_model(architecture, pretrained=None, load_weights=False,
                                          force_quick_gelu=quick_gelu, pretrained_image=False,
                                          pretrained_text=False)
        except (OSError, ValueError) as error:
            raise SemantifyError(
                f"cannot build CLIP architecture {architecture} ({_first_line(error)}); check "
                "the model name, or the open_clip_config.json of the checkpoint directory."
            ) from error


def _load_weights(open_clip, model: torch.nn.Module, weights: Path, spec: ClipSpec) -> None:
    try:
        open_clip.load_checkpoint(model, str(weights))
        return
    except Exception as error:  # noqa: BLE001 - classified below: unreadable vs wrong shape
        load_error = error
    from open_clip.factory import load_state_dict

    try:
        load_state_dict(str(weights))
    except Exception as error:  # noqa: BLE001 - any failure to read means a bad file
        raise SemantifyError(
            f"cannot read CLIP checkpoint {weights} ({_first_line(error)}): the file is "
            "corrupt, truncated or not a weights-only PyTorch or safetensors checkpoint; "
            "download it again."
        ) from error
    raise SemantifyError(
        f"CLIP checkpoint {weights} does not fit architecture {spec.name} "
        f"({_first_line(load_error)}); pass the architecture it was trained with (--clip NAME)."
    ) from load_error


def _first_line(error: BaseException, limit: int = 160) -> str:
    """The gist of ``error`` in at most ``limit`` characters."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    text = lines[0] if lines else type(error).__name__
    if text.endswith(":") and len(lines) > 1:  # "Error(s) in loading state_dict ...:" + details
        text = f"{text} {lines[1]}"
    if len(text) > limit and ". " in text:
        text = text.split(". ")[0]
    return text if len(text) <= limit else text[:limit - 3].rsplit(" ", 1)[0] + "..."
