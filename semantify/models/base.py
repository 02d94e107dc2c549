"""The one interface every morphable model speaks.

Conventions, shared by all models so the viewer, CLIP and the mapper never special-case one:
- vertices are float32 metres, shape (B, V, 3);
- +Y is up, the model faces +Z (towards a camera on the +Z axis), +X is the model's left;
- faces are (F, 3) int64 triangles;
- coefficients are a (B, C) float tensor in the order of :attr:`MorphableModel.coefficients`.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Sequence

import numpy as np
import torch

from semantify.errors import SemantifyError
from semantify.models.sampling import Distribution

FEATURED_COUNT = 10
REFINABLE_COUNT = 20


@dataclasses.dataclass(frozen=True)
class Coefficient:
    """One input of a model: its name, the range it is valid in, and its neutral value."""

    name: str
    low: float
    high: float
    default: float = 0.0


@dataclasses.dataclass(frozen=True)
class Skinning:
    """One shape's skeleton and skin, in the model's axes (metres, +Y up): ``rest`` and
    ``posed`` (J, 4, 4) float64 rigid world frames of the bones, and ``weights`` (V, J)
    float32 whose rows sum to 1. Linear blend skinning, ``sum_j w_vj posed_j rest_j^-1 v``,
    poses the rest vertices (SMPL's pose correctives aside, which it leaves out: the SMPL
    family gives them through ``pose_correctives``, added to the rest vertices first)."""

    rest: torch.Tensor
    posed: torch.Tensor
    weights: torch.Tensor

    def __post_init__(self):
        joints = self.rest.shape[0]
        if self.rest.shape != (joints, 4, 4) or self.posed.shape != self.rest.shape \
                or self.weights.ndim != 2 or self.weights.shape[1] != joints:
            raise SemantifyError(f"a skinning needs (J, 4, 4) rest and posed frames and (V, J) "
                                 f"weights, got {tuple(self.rest.shape)}, "
                                 f"{tuple(self.posed.shape)} and {tuple(self.weights.shape)}.")


@dataclasses.dataclass(frozen=True)
class UVMap:
    """Texture coordinates: (T, 2) float32 ``coords`` and (F, 3) int64 ``faces`` into them."""

    coords: np.ndarray
    faces: np.ndarray


class MorphableModel(torch.nn.Module, abc.ABC):
    """A 3DMM: coefficients (B, C) in, vertices (B, V, 3) out, in the shared conventions.

    Subclasses set ``id``, ``name``, ``family`` (``body``, ``face``, ``expression``,
    ``animal`` or ``generic``: it picks prompt templates, vocabularies and camera framing),
    ``coefficients``, ``faces`` and, if they have one, ``uv_map``; and implement
    :meth:`_vertices`.
    """

    id: str
    name: str
    family: str
    coefficients: tuple[Coefficient, ...]
    faces: torch.Tensor
    uv_map: UVMap | None = None
    distribution: Distribution  # the reference implementation's sampling (the fallback)
    prior_name: str | None = None  # the shipped sampling prior (semantify/models/priors/)
    # Model facts as data. ``featured``: the coefficients a raw-coefficient view shows first
    # (empty: the first FEATURED_COUNT). ``refinable``: the coefficients metric refinement may
    # move (empty: the first REFINABLE_COUNT, which for PCA models are the largest modes).
    featured: tuple[str, ...] = ()
    refinable: tuple[str, ...] = ()
    # ``skeleton``: the id of the skeleton file (``semantify/poses/skeletons``) that poses this
    # model, or None when it has only its rest pose. Models with one implement
    # :meth:`skin` and :meth:`joint_positions` and name their bones.
    skeleton: str | None = None
    bone_names: tuple[str, ...] = ()
    bone_parents: tuple[int, ...] = ()  # parent index per bone, -1 for the root

    @property
    def coefficient_names(self) -> list[str]:
        return [c.name for c in self.coefficients]

    @property
    def featured_indices(self) -> list[int]:
        """Indices of the coefficients to show first (see :attr:`featured`)."""
        return self._indices(self.featured, FEATURED_COUNT)

    @property
    def refinable_indices(self) -> list[int]:
        """Indices of the coefficients metric refinement may move (see :attr:`refinable`)."""
        return self._indices(self.refinable, REFINABLE_COUNT)

    def _indices(self, names: tuple[str, ...], fallback: int) -> list[int]:
        known = self.coefficient_names
        chosen = [known.index(name) for name in names if name in known]
        return chosen or list(range(min(fallback, len(known))))

    @property
    def num_coefficients(self) -> int:
        return len(self.coefficients)

    @property
    def num_vertices(self) -> int:
        return int(self.faces.max()) + 1

    @property
    def ranges(self) -> torch.Tensor:
        """(C, 2) float32 valid [low, high] of each coefficient."""
        return torch.tensor([[c.low, c.high] for c in self.coefficients], dtype=torch.float32)

    def default_coefficients(self) -> torch.Tensor:
        """(C,) float32 neutral coefficients (the mean shape)."""
        return torch.tensor([c.default for c in self.coefficients], dtype=torch.float32)

    @property
    def prior(self):
        """The :class:`~semantify.models.prior.Prior` this model samples from by default."""
        from semantify.models.prior import resolve_prior

        return resolve_prior(None, self)

    def sample(self, indices: Sequence[int] | torch.Tensor, seed: int,
               prior=None) -> torch.Tensor:
        """(N, C) coefficients for sample ``indices``; row i depends only on (seed, index i).

        Drawn from ``prior`` (a :class:`~semantify.models.prior.Prior`, a shipped prior name,
        ``reference`` or a .json path; default :attr:`prior`), which may reject shapes with
        visible self-intersections. This is what generation, evaluation and the app's Random
        call.
        """
        from semantify.models.prior import resolve_prior

        return resolve_prior(prior, self).sample(self, indices, seed)

    def self_intersection_faces(self) -> np.ndarray | None:
        """(F,) bool: faces whose self-intersections would be visible at this model's framing
        (None: all). See :mod:`semantify.models.self_intersection`."""
        return None

    def validate(self, coefficients: torch.Tensor) -> torch.Tensor:
        """Return ``coefficients`` as (B, C) float32, or raise a one-line SemantifyError."""
        coefficients = torch.as_tensor(coefficients, dtype=torch.float32)
        if coefficients.ndim == 1:
            coefficients = coefficients[None]
        if coefficients.ndim != 2 or coefficients.shape[1] != self.num_coefficients:
            raise SemantifyError(
                f"{self.id} takes {self.num_coefficients} coefficients per sample, got shape "
                f"{tuple(coefficients.shape)}; pass a (B, {self.num_coefficients}) array."
            )
        if not torch.isfinite(coefficients).all():
            raise SemantifyError(
                f"{self.id} coefficients contain NaN or inf; pass finite numbers."
            )
        return coefficients

    def forward(self, coefficients: torch.Tensor) -> torch.Tensor:
        """(B, C) coefficients -> (B, V, 3) float32 vertices in metres, +Y up, facing +Z."""
        coefficients = self.validate(coefficients)
        device = self.faces.device
        return self._vertices(coefficients.to(device)).to(torch.float32)

    @abc.abstractmethod
    def _vertices(self, coefficients: torch.Tensor) -> torch.Tensor:
        """(B, C) validated float32 coefficients -> (B, V, 3) vertices."""

    def skin(self, coefficients: torch.Tensor,
             rotations: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Pose the shapes: (B, C) coefficients and (J, 3, 3) per-bone rotations (model axes,
        about each bone's head, in the world axes its parent carried it to; identity keeps the
        rest pose) -> ((B, V, 3) posed, (B, V, 3) rest) vertices. Call it through
        :func:`semantify.poses.posed_vertices`, which turns named poses into rotations."""
        raise SemantifyError(f"{self.id} has no skeleton; it can only be shown at rest.")

    def joint_positions(self, coefficients: torch.Tensor) -> torch.Tensor:
        """(B, C) coefficients -> (B, J, 3) rest positions of the bones' heads."""
        raise SemantifyError(f"{self.id} has no skeleton; it can only be shown at rest.")

    def skinning(self, coefficients: torch.Tensor, rotations: torch.Tensor) -> Skinning:
        """One shape's (C,) coefficients and (J, 3, 3) bone rotations (as :meth:`skin` takes
        them) -> its :class:`Skinning`: the bones placed for this shape, at rest and posed,
        and the skin weights (what a rigged export carries)."""
        raise SemantifyError(f"{self.id} has no skeleton, so it cannot be rigged; export it "
                             "without a rig.")

    def skin_texture(self) -> np.ndarray | None:
        """(H, W, 4) uint8 skin texture in :attr:`uv_map` (sRGB albedo, top row v = 1;
        alpha: how much light scatters under the skin), or None: the skin shader alone."""
        return None

    def describe(self) -> dict:
        """A JSON-friendly description, recorded in datasets and slider sets."""
        return {"id": self.id, "name": self.name, "family": self.family,
                "coefficients": self.coefficient_names, "num_vertices": self.num_vertices}
