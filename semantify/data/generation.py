"""The maths of dataset generation: what a dataset is, which shards are left, and the
per-batch pipeline sample -> mesh -> render (-> measure). Orchestration lives in
``lightning_modules.generate``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

import semantify
from semantify.clip import ClipSpec
from semantify.data.dataset import (MANIFEST, DatasetModel, Manifest, Render, read_manifest,
                                    shard_path, write_manifest)
from semantify.errors import SemantifyError
from semantify.pictures.appearance import DEFAULT_APPEARANCE, check_appearance
from semantify.writer_lock import LOCK_NAME

# Manifest keys that must match for a rerun to resume into an existing folder.
IDENTITY_KEYS = ("model", "samples", "seed", "shard_size", "views", "clip", "render",
                 "measurements", "thumbnails", "prior")
DEFAULT_VIEWS = ("front", "side")  # what a dataset renders unless told otherwise
RENDER_PROCESS_FROM = 500  # samples to generate from which a render process pays off


@dataclasses.dataclass(frozen=True)
class GenerationSpec:
    """Everything that defines a dataset's content (and so its manifest); checked here, so
    every front (``semantify generate``, builds, benches) gets the same one-line errors.
    The fields' defaults are the defaults of ``semantify generate``."""

    model_id: str
    samples: int
    seed: int = 0
    views: tuple[str, ...] = DEFAULT_VIEWS
    clip: ClipSpec | None = None  # None: no rendering, measurements only (--clip none)
    size: int = 224
    shard_size: int = 64
    thumbnails: int = 0  # thumbnail side in pixels, 0 for none
    measurements: bool = True  # record body measurements where the model has landmarks
    model_options: tuple = ()
    # The sampling prior: None for the model's own, ``reference``, a shipped name or a .json.
    prior: str | None = None
    pose: str = "rest"  # the pose rendered (measurements always come from the rest pose)
    appearance: str = DEFAULT_APPEARANCE  # skin or clay (semantify.pictures.appearance)

    def __post_init__(self):
        if self.samples < 1:
            raise SemantifyError(f"--samples must be at least 1, got {self.samples}.")
        if self.shard_size < 1:
            raise SemantifyError(f"--batch-size must be at least 1, got {self.shard_size}.")
        if self.size < 1:
            raise SemantifyError(f"--size must be at least 1, got {self.size}.")
        if self.thumbnails < 0:
            raise SemantifyError(f"--thumbnails must be 0 or more, got {self.thumbnails}.")
        if self.thumbnails and not self.clip:
            raise SemantifyError("--thumbnails needs rendering; drop it or use a --clip model.")
        check_appearance(self.appearance)
        if not self.clip and (self.pose != "rest" or self.appearance != DEFAULT_APPEARANCE):
            raise SemantifyError("--pose and --appearance choose how samples are rendered; "
                                 "drop them or use a --clip model.")
        if self.clip:
            object.__setattr__(self, "views", check_views(self.views))

    @classmethod
    def default(cls, name: str):
        """The default of field ``name`` (what a front offers when the user says nothing)."""
        return cls.__dataclass_fields__[name].default


def check_views(views) -> tuple[str, ...]:
    """``views`` as a tuple if they are view names (front, side, ...) or AZIMUTH:ELEVATION,
    else one line listing the valid names."""
    from viewer.camera import parse_views
    from viewer.errors import ViewerError

    if isinstance(views, str) or not all(isinstance(view, str) for view in views):
        raise SemantifyError("views must be names such as front or side.")
    try:
        parse_views(list(views))
    except ViewerError as error:
        raise SemantifyError(str(error)) from None
    return tuple(views)


def build_manifest(spec: GenerationSpec, model, measurement_names: list[str]) -> Manifest:
    """The manifest describing the dataset ``spec`` makes with ``model``.

    Raises a one-line error, before anything is written, for a pose the model lacks. A pose
    file of the user's is recorded by its absolute path (as a prior file is), so that the
    workers resolve the same pose.
    """
    from semantify.poses import resolve_pose

    pose = resolve_pose(model, spec.pose)
    pose_choice = (str(Path(spec.pose).resolve()) if str(spec.pose).lower().endswith(".json")
                   else pose.name)
    render = Render(spec.size, getattr(model, "framing", "full"), (0, 0, 0), pose_choice,
                    spec.appearance) if spec.clip else None
    return Manifest(
        samples=spec.samples, shard_size=spec.shard_size,
        model=DatasetModel.of(model, dict(spec.model_options)), seed=spec.seed,
        views=tuple(spec.views) if spec.clip else (),
        clip=spec.clip.to_dict() if spec.clip else None, render=render,
        thumbnails=spec.thumbnails, measurements=tuple(measurement_names),
        prior=prior_entry(spec.prior, model), semantify_version=semantify.__version__)


def prior_entry(choice: str | None, model) -> dict:
    """The manifest's record of the prior that samples ``model`` (name, revision, sha256, and
    ``fallback`` when the model has none: the reference implementation's sampling)."""
    from pathlib import Path

    from semantify.models.prior import resolve_prior

    if choice is not None and str(choice).endswith(".json"):
        choice = str(Path(choice).resolve())
    return {**resolve_prior(choice, model).record(), "choice": choice}


def prepare_output(out: Path, manifest: Manifest, create: bool = True) -> list[int]:
    """Create or resume the dataset folder ``out``; return the shard ids still to write.

    Refuses a folder holding another dataset, or other files, rather than mixing them. With
    ``create`` False (ranks other than 0 of a distributed run, which may start before rank 0
    has written the manifest) an existing manifest is checked and nothing is written.
    """
    out = Path(out)
    if (out / MANIFEST).exists():
        existing, wanted = read_manifest(out).to_dict(), manifest.to_dict()
        differ = [k for k in IDENTITY_KEYS if existing.get(k) != wanted.get(k)]
        if differ == ["prior"]:
            made = existing.get("prior")
            if not made:
                raise SemantifyError(f"{out} was generated before sampling priors were recorded; "
                                     "it cannot be resumed: choose an empty --out folder.")
            raise SemantifyError(
                f"{out} was sampled with prior {made.get('name')!r} (revision "
                f"{made.get('revision')}), not {manifest.prior['name']!r} (revision "
                f"{manifest.prior['revision']}); rerun with that --prior to resume it, or "
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
        write_manifest(out, manifest)
    return [s for s in range(manifest.num_shards) if not shard_path(out, s).exists()]


class SamplePipeline:
    """Per batch of indices: coefficients, meshes, rendered views (in the manifest's pose and
    appearance) and measurements (always of the rest pose).

    Heavy parts (model, GL renderer, anthropometer) are built on first use, so the pipeline
    can be sent to a worker process and build its own GL context there.
    """

    def __init__(self, manifest: Manifest):
        self.manifest = manifest
        self._parts = None

    def _build(self):
        from semantify.models.prior import resolve_prior

        manifest = self.manifest
        model = manifest.model_ref.load()
        prior = resolve_prior(manifest.prior["choice"], model)  # once, not per batch
        renderer = pose = None
        if manifest.clip:
            from semantify.pictures.renderers import batch_renderer
            from semantify.poses import resolve_pose

            render = manifest.render
            pose = resolve_pose(model, render.pose)
            renderer = batch_renderer(model, list(manifest.views), size=render.size,
                                      appearance=render.appearance, pose=pose)
        meter = None
        if manifest.measurements:
            from semantify.measurements.anthropometer import Anthropometer

            meter = Anthropometer.for_model(model)
        self._parts = (model, prior, renderer, pose, meter)

    def __call__(self, indices: torch.Tensor) -> dict[str, torch.Tensor]:
        if self._parts is None:
            self._build()
        model, prior, renderer, pose, meter = self._parts
        coefficients = model.sample(indices, self.manifest.seed, prior=prior)
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
                [values[name] for name in self.manifest.measurements], dim=1).float()
        return batch


def thumbnails(images: torch.Tensor, size: int) -> torch.Tensor:
    """(B, V, H, W, 3) uint8 -> (B, V, size, size, 3) uint8 by area averaging."""
    b, v, h, w, _ = images.shape
    x = images.reshape(b * v, h, w, 3).permute(0, 3, 1, 2).float()
    x = torch.nn.functional.interpolate(x, size=(size, size), mode="area")
    return x.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).reshape(b, v, size, size, 3)
