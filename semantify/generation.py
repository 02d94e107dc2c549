"""The maths of dataset generation: what a dataset is, which shards are left, and the
per-batch pipeline sample -> mesh -> render (-> measure). Orchestration lives in
``lightning_modules.generate``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

import semantify
from semantify.dataset import FORMAT, MANIFEST, VERSION, num_shards, read_manifest, shard_path
from semantify.files import write_json_atomic
from semantify.errors import SemantifyError
from semantify.writer_lock import LOCK_NAME

# Manifest keys that must match for a rerun to resume into an existing folder.
IDENTITY_KEYS = ("model", "samples", "seed", "shard_size", "views", "clip", "render",
                 "measurements", "thumbnails", "prior")


@dataclasses.dataclass(frozen=True)
class GenerationSpec:
    """Everything that defines a dataset's content (and so its manifest)."""

    model_id: str
    samples: int
    seed: int = 0
    views: tuple[str, ...] = ("front", "side")
    clip: dict | None = None  # ClipSpec.to_dict(), or None for --clip none
    size: int = 224
    shard_size: int = 64
    thumbnails: int = 0  # thumbnail side in pixels, 0 for none
    measurements: bool = True  # record body measurements where the model has landmarks
    model_options: tuple = ()
    # The sampling prior: None for the model's own, ``reference``, a shipped name or a .json.
    prior: str | None = None
    pose: str = "rest"  # the pose rendered (measurements always come from the rest pose)
    appearance: str = "clay"  # skin or clay (semantify.appearance)

    def __post_init__(self):
        if self.samples < 1:
            raise SemantifyError(f"--samples must be at least 1, got {self.samples}.")
        if self.shard_size < 1:
            raise SemantifyError(f"--batch-size must be at least 1, got {self.shard_size}.")
        if self.thumbnails and not self.clip:
            raise SemantifyError("--thumbnails needs rendering; drop it or use a --clip model.")
        from semantify.appearance import check_appearance

        check_appearance(self.appearance)
        if not self.clip and (self.pose != "rest" or self.appearance != "clay"):
            raise SemantifyError("--pose and --appearance choose how samples are rendered; "
                                 "drop them or use a --clip model.")


RENDER_DEFAULTS = {"pose": "rest", "appearance": "clay"}  # what older manifests rendered


def build_manifest(spec: GenerationSpec, model, measurement_names: list[str]) -> dict:
    """The JSON manifest describing the dataset ``spec`` makes with ``model``.

    Raises a one-line error, before anything is written, for a pose the model lacks. A pose
    file of the user's is recorded by its absolute path (as a prior file is), so that the
    workers resolve the same pose.
    """
    from semantify.poses import resolve_pose

    pose = resolve_pose(model, spec.pose)
    pose_choice = (str(Path(spec.pose).resolve()) if str(spec.pose).lower().endswith(".json")
                   else pose.name)
    return {
        "format": FORMAT,
        "version": VERSION,
        "model": {"id": model.id, "name": model.name, "family": model.family,
                  "options": dict(spec.model_options), "coefficients": model.coefficient_names,
                  "ranges": model.ranges.tolist()},
        "samples": spec.samples,
        "seed": spec.seed,
        "shard_size": spec.shard_size,
        "views": list(spec.views) if spec.clip else [],
        "clip": spec.clip,
        "render": {"size": spec.size, "framing": getattr(model, "framing", "full"),
                   "background": [0, 0, 0], "pose": pose_choice,
                   "appearance": spec.appearance} if spec.clip else None,
        "thumbnails": spec.thumbnails,
        "measurements": measurement_names,
        "prior": prior_entry(spec.prior, model),
        "semantify_version": semantify.__version__,
    }


def prior_entry(choice: str | None, model) -> dict:
    """The manifest's record of the prior that samples ``model`` (name, revision, sha256, and
    ``fallback`` when the model has none: the reference implementation's sampling)."""
    from pathlib import Path

    from semantify.models.prior import resolve_prior

    if choice is not None and str(choice).endswith(".json"):
        choice = str(Path(choice).resolve())
    return {**resolve_prior(choice, model).record(), "choice": choice}


def prepare_output(out: Path, manifest: dict, create: bool = True) -> list[int]:
    """Create or resume the dataset folder ``out``; return the shard ids still to write.

    Refuses a folder holding another dataset, or other files, rather than mixing them. With
    ``create`` False (ranks other than 0 of a distributed run, which may start before rank 0
    has written the manifest) an existing manifest is checked and nothing is written.
    """
    out = Path(out)
    if (out / MANIFEST).exists():
        existing = read_manifest(out)
        if existing.get("render"):
            existing["render"] = {**RENDER_DEFAULTS, **existing["render"]}
        differ = [k for k in IDENTITY_KEYS if existing.get(k) != manifest.get(k)]
        if differ == ["prior"]:
            made = existing.get("prior")
            if not made:
                raise SemantifyError(f"{out} was generated before sampling priors were recorded; "
                                     "it cannot be resumed: choose an empty --out folder.")
            raise SemantifyError(
                f"{out} was sampled with prior {made.get('name')!r} (revision "
                f"{made.get('revision')}), not {manifest['prior']['name']!r} (revision "
                f"{manifest['prior']['revision']}); rerun with that --prior to resume it, or "
                "choose an empty --out folder.")
        if differ:
            raise SemantifyError(
                f"{out} holds another dataset (it differs in: {', '.join(differ)}); rerun with "
                "the same arguments to resume it, or choose an empty --out folder.")
    elif not create:
        pass
    elif out.exists() and any(p.name != LOCK_NAME for p in out.iterdir()):
        raise SemantifyError(f"{out} is not empty and holds no Semantify dataset; "
                             "choose an empty or new --out folder.")
    else:
        write_json_atomic(out / MANIFEST, manifest)
    return [s for s in range(num_shards(manifest)) if not shard_path(out, s).exists()]


def shard_indices(shard: int, manifest: dict) -> torch.Tensor:
    """(n,) int64 sample indices of ``shard``."""
    start = shard * manifest["shard_size"]
    return torch.arange(start, min(start + manifest["shard_size"], manifest["samples"]))


class SamplePipeline:
    """Per batch of indices: coefficients, meshes, rendered views (in the manifest's pose and
    appearance) and measurements (always of the rest pose).

    Heavy parts (model, GL renderer, anthropometer) are built on first use, so the pipeline
    can be sent to a worker process and build its own GL context there.
    """

    def __init__(self, manifest: dict):
        self.manifest = manifest
        self._parts = None

    def _build(self):
        from semantify.models import load_model

        from semantify.models.prior import resolve_prior

        model = load_model(self.manifest["model"]["id"], **self.manifest["model"]["options"])
        prior = resolve_prior(self.manifest["prior"]["choice"], model)  # once, not per batch
        renderer = pose = None
        if self.manifest["clip"]:
            from semantify.poses import resolve_pose
            from semantify.rendering import batch_renderer

            render = self.manifest["render"]
            pose = resolve_pose(model, render["pose"])
            renderer = batch_renderer(model, self.manifest["views"], size=render["size"],
                                      appearance=render["appearance"], pose=pose)
        meter = None
        if self.manifest["measurements"]:
            from semantify.measure import Anthropometer

            meter = Anthropometer.for_model(model)
        self._parts = (model, prior, renderer, pose, meter)

    def __call__(self, indices: torch.Tensor) -> dict[str, torch.Tensor]:
        if self._parts is None:
            self._build()
        model, prior, renderer, pose, meter = self._parts
        coefficients = model.sample(indices, self.manifest["seed"], prior=prior)
        batch = {"indices": indices, "coefficients": coefficients}
        with torch.no_grad():
            vertices = model(coefficients)  # the rest pose: measurements come from it
        if renderer is not None:
            from semantify.poses import posed_vertices

            with torch.no_grad():
                shown = vertices if pose.is_rest else posed_vertices(model, coefficients, pose)
            batch["images"] = torch.from_numpy(renderer.render(shown))
        if meter is not None:
            values = meter.measure(vertices)
            batch["measurements"] = torch.stack(
                [values[name] for name in self.manifest["measurements"]], dim=1).float()
        return batch


def thumbnails(images: torch.Tensor, size: int) -> torch.Tensor:
    """(B, V, H, W, 3) uint8 -> (B, V, size, size, 3) uint8 by area averaging."""
    b, v, h, w, _ = images.shape
    x = images.reshape(b * v, h, w, 3).permute(0, 3, 1, 2).float()
    x = torch.nn.functional.interpolate(x, size=(size, size), mode="area")
    return x.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).reshape(b, v, size, size, 3)
