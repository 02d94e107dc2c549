"""Sampling priors: how random shapes of a model are drawn, as versioned data.

A prior is a JSON file (``semantify/models/priors/NAME.json``, or a user's file) read through
:class:`Prior`; a model names its prior in ``MorphableModel.prior_name``. A model without one
samples as the reference implementation did (its ``distribution``), and says so: its prior is
``reference``, marked ``fallback``. Dataset manifests record the prior (name, revision, sha256)
and generation refuses to resume a dataset made with another.

File format (``"format": "semantify-prior"``, ``"version": 1``)::

    {"format": "semantify-prior", "version": 1, "name": "anny-face-expression", "revision": 1,
     "description": "...", "source": "where the numbers come from",
     "groups": [GROUP, ...],            # applied in order to the model's default coefficients
     "exclusive": [[PATTERN, PATTERN], ...],   # never both moved: the weaker one is reset
     "reject_self_intersections": true, "max_tries": 16}

A PATTERN is a coefficient name or an ``fnmatch`` pattern (``mouthSmile*``), or several joined
by ``|``; every part must match a coefficient of the model. A DRAW is one of
``{"uniform": [lo, hi]}``,
``{"beta": [a, b], "range": [lo, hi]}``, ``{"normal": [mean, sd]}`` (optionally with
``"range"`` to clip), ``{"reference": sd}`` (N(0, sd^2) times an integer from {-2, -1, 0, 1},
the Semantify paper's draw) or ``{"constant": x}``. GROUP kinds:

- ``{"kind": "independent", "coefficients": [PATTERN], "draw": DRAW}``: each matched
  coefficient is set to its own draw;
- ``{"kind": "mixture", "components": [{"name": s, "probability": p, "values": {PATTERN: DRAW}}]}``:
  one component is picked with its probability; each of its patterns gets one draw, shared by
  all the coefficients it matches (so ``mouthSmile*`` moves both corners together);
- ``{"kind": "sparse", "coefficients": [PATTERN], "exclude": [PATTERN], "count": [lo, hi],
  "draw": DRAW, "sides": "tied"}``: ``count`` matched coefficients (a left/right pair counts
  as one when ``sides`` is ``tied``) get a draw added;
- ``{"kind": "factor", "draw": DRAW, "loadings": {PATTERN: weight}}``: one latent draw z adds
  ``weight * z`` to each matched coefficient (shared causes such as adiposity).

Every value is finally clipped to its coefficient's range. Row i depends only on (seed, i):
each candidate draws from ``numpy.random.default_rng([seed, i, attempt])``.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch

from semantify.errors import SemantifyError

FORMAT = "semantify-prior"
VERSION = 1
PRIOR_DIR = Path(__file__).parent / "priors"
REFERENCE = "reference"
GROUP_KINDS = ("independent", "mixture", "sparse", "factor")
DRAW_KINDS = ("uniform", "beta", "normal", "reference", "constant")
DEFAULT_TRIES = 16
SIDE = re.compile(r"(Left|Right|^l-|^r-|\.L$|\.R$)")


@dataclasses.dataclass(frozen=True)
class Draw:
    """One random value: ``kind`` with ``params``, clipped to ``clip`` when given."""

    kind: str
    params: tuple[float, ...]
    clip: tuple[float, float] | None = None

    def __call__(self, rng: np.random.Generator) -> float:
        p = self.params
        if self.kind == "uniform":
            value = rng.uniform(p[0], p[1])
        elif self.kind == "beta":
            value = p[2] + (p[3] - p[2]) * rng.beta(p[0], p[1])
        elif self.kind == "normal":
            value = p[0] + p[1] * rng.standard_normal()
        elif self.kind == "reference":
            value = p[0] * rng.standard_normal() * rng.integers(-2, 2)
        else:
            value = p[0]
        return float(np.clip(value, *self.clip)) if self.clip else float(value)

    @property
    def bounds(self) -> tuple[float, float]:
        """The interval the draw can land in (infinite for unclipped normals)."""
        if self.clip:
            return self.clip
        if self.kind == "uniform":
            return self.params[0], self.params[1]
        if self.kind == "beta":
            return self.params[2], self.params[3]
        if self.kind == "constant":
            return self.params[0], self.params[0]
        return -np.inf, np.inf


@dataclasses.dataclass(frozen=True)
class Group:
    """One step of a prior (see the module docstring for the kinds)."""

    kind: str
    patterns: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    draw: Draw | None = None
    count: tuple[int, int] = (0, 0)
    tied_sides: bool = False
    components: tuple[tuple[str, float, tuple[tuple[str, Draw], ...]], ...] = ()
    loadings: tuple[tuple[str, float], ...] = ()


@dataclasses.dataclass(frozen=True)
class Prior:
    """A sampling prior read from a ``semantify-prior`` file (see the module docstring)."""

    name: str
    revision: int
    groups: tuple[Group, ...]
    exclusive: tuple[tuple[str, str], ...] = ()
    reject_self_intersections: bool = False
    max_tries: int = DEFAULT_TRIES
    description: str = ""
    source: str = ""
    sha256: str = ""
    fallback: bool = False

    def record(self) -> dict:
        """What a dataset manifest stores about this prior."""
        record = {"name": self.name, "revision": self.revision, "sha256": self.sha256,
                  "reject_self_intersections": self.reject_self_intersections}
        if self.fallback:
            record["fallback"] = ("no prior is defined for this model: the reference "
                                  "implementation's sampling")
        return record

    @classmethod
    def from_dict(cls, data, where: str) -> Prior:
        """Validate a parsed prior file; every problem is one line naming ``where``."""
        from semantify.files import check_format

        check_format(data, FORMAT, VERSION, f"prior {where}",
                     "start from one in semantify/models/priors/.")
        name, revision = data.get("name"), data.get("revision")
        if not isinstance(name, str) or not name or not _is_int(revision) or revision < 0:
            raise SemantifyError(f"prior {where} needs a 'name' (text) and a 'revision' "
                                 "(whole number >= 0).")
        groups = data.get("groups")
        if not isinstance(groups, list) or not groups:
            raise SemantifyError(f"prior {where} needs a non-empty 'groups' list.")
        exclusive = data.get("exclusive", [])
        if not isinstance(exclusive, list) or not all(
                isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p)
                for p in exclusive):
            raise SemantifyError(f"prior {where}: 'exclusive' must be a list of "
                                 '[pattern, pattern] pairs, e.g. [["eyeBlink*", "eyeWide*"]].')
        tries = data.get("max_tries", DEFAULT_TRIES)
        if not _is_int(tries) or not 1 <= tries <= 1000:
            raise SemantifyError(f"prior {where}: 'max_tries' must be a whole number in "
                                 f"[1, 1000], got {tries!r}.")
        canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return cls(
            name, int(revision),
            tuple(_group(g, f"{where} group {i + 1}") for i, g in enumerate(groups)),
            tuple((a, b) for a, b in exclusive), bool(data.get("reject_self_intersections")),
            int(tries), str(data.get("description", "")), str(data.get("source", "")),
            hashlib.sha256(canonical.encode()).hexdigest())

    @classmethod
    def reference(cls, model) -> Prior:
        """The fallback: the model's own reference ``distribution``, no rejection."""
        return cls(REFERENCE, 0, (), description="the reference implementation's sampling",
                   fallback=True)

    def bind(self, model):
        """This prior resolved against ``model``'s coefficients (unknown names are errors): a
        :class:`semantify.models.prior_sampling.BoundPrior`."""
        return _bound(self, model)

    def sample(self, model, indices: Sequence[int] | torch.Tensor, seed: int) -> torch.Tensor:
        """(N, C) float32 coefficients of ``model`` for sample ``indices``."""
        if self.fallback:
            from semantify.models.sampling import sample_coefficients

            return sample_coefficients(model.distribution, model.coefficients, indices, seed)
        return self.bind(model).sample(indices, seed)


@functools.lru_cache(maxsize=32)
def _bound(prior: Prior, model):
    from semantify.models.prior_sampling import BoundPrior

    return BoundPrior(prior, model)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value)


def _draw(spec, where: str) -> Draw:
    """A :class:`Draw` from its JSON form, or a one-line error."""
    kinds = [k for k in DRAW_KINDS if isinstance(spec, Mapping) and k in spec]
    if len(kinds) != 1:
        raise SemantifyError(f"prior {where}: a draw needs exactly one of "
                             f"{', '.join(DRAW_KINDS)}, got {spec!r}.")
    kind, params = kinds[0], spec[kinds[0]]
    params = list(params) if isinstance(params, list) else [params]
    sizes = {"uniform": 2, "beta": 2, "normal": 2, "reference": 1, "constant": 1}
    if len(params) != sizes[kind] or not all(_number(p) for p in params):
        raise SemantifyError(f"prior {where}: {kind} takes {sizes[kind]} finite number(s), "
                             f"got {spec[kind]!r}.")
    clip = spec.get("range")
    if clip is not None:
        if not (isinstance(clip, list) and len(clip) == 2 and all(_number(x) for x in clip)
                and clip[0] < clip[1]):
            raise SemantifyError(f"prior {where}: impossible range {clip!r}; write "
                                 "[low, high] with low < high.")
        clip = (float(clip[0]), float(clip[1]))
    if kind == "uniform" and not params[0] <= params[1]:
        raise SemantifyError(f"prior {where}: impossible range uniform {params!r}; write "
                             "[low, high] with low <= high.")
    if kind == "beta":
        if min(params) <= 0:
            raise SemantifyError(f"prior {where}: beta shapes must be positive, got {params!r}.")
        if clip is None:
            raise SemantifyError(f"prior {where}: a beta draw needs a 'range': [low, high].")
        params, clip = params + list(clip), None
    if kind in ("normal", "reference") and params[-1] < 0:
        raise SemantifyError(f"prior {where}: a spread must not be negative, got {params[-1]}.")
    return Draw(kind, tuple(float(p) for p in params), clip)


def _patterns(value, where: str, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(p, str) and p for p in value):
        raise SemantifyError(f"prior {where}: '{key}' must be a list of coefficient names or "
                             "patterns.")
    return tuple(value)


def _probability(value, where: str) -> float:
    if not _number(value) or not 0 <= value <= 1:
        raise SemantifyError(f"prior {where}: probability {value!r} must be a number in "
                             "[0, 1].")
    return float(value)


def _group(spec, where: str) -> Group:
    kind = spec.get("kind") if isinstance(spec, Mapping) else None
    if kind not in GROUP_KINDS:
        raise SemantifyError(f"prior {where}: unknown kind {kind!r}; choose one of "
                             f"{', '.join(GROUP_KINDS)}.")
    if kind == "independent":
        return Group(kind, _patterns(spec.get("coefficients"), where, "coefficients"),
                     draw=_draw(spec.get("draw"), where))
    if kind == "sparse":
        count = spec.get("count")
        if not (isinstance(count, list) and len(count) == 2 and all(_is_int(c) for c in count)
                and 0 <= count[0] <= count[1]):
            raise SemantifyError(f"prior {where}: impossible count {count!r}; write [low, high] "
                                 "whole numbers with 0 <= low <= high.")
        sides = spec.get("sides", "free")
        if sides not in ("free", "tied"):
            raise SemantifyError(f"prior {where}: 'sides' must be 'free' or 'tied'.")
        return Group(kind, _patterns(spec.get("coefficients"), where, "coefficients"),
                     _patterns(spec.get("exclude", []), where, "exclude"),
                     _draw(spec.get("draw"), where), (count[0], count[1]), sides == "tied")
    if kind == "factor":
        loadings = spec.get("loadings")
        if not isinstance(loadings, Mapping) or not loadings or not all(
                _number(w) for w in loadings.values()):
            raise SemantifyError(f"prior {where}: 'loadings' must map patterns to numbers.")
        return Group(kind, draw=_draw(spec.get("draw"), where),
                     loadings=tuple((k, float(w)) for k, w in loadings.items()))
    components = spec.get("components")
    if not isinstance(components, list) or not components:
        raise SemantifyError(f"prior {where}: a mixture needs a non-empty 'components' list.")
    parsed = []
    for j, component in enumerate(components):
        here = f"{where} component {j + 1}"
        if not isinstance(component, Mapping) or not isinstance(component.get("values", {}),
                                                                Mapping):
            raise SemantifyError(f"prior {here}: write {{\"probability\": p, \"values\": "
                                 "{pattern: draw}}.")
        values = tuple((pattern, _draw(draw, f"{here} {pattern!r}"))
                       for pattern, draw in component.get("values", {}).items())
        parsed.append((str(component.get("name", j + 1)),
                       _probability(component.get("probability"), here), values))
    total = sum(p for _, p, _ in parsed)
    if not 0.999 <= total <= 1.001:
        raise SemantifyError(f"prior {where}: component probabilities add up to {total:.4g}, "
                             "not 1.")
    return Group(kind, components=tuple(parsed))


# -- the registry of shipped priors ---------------------------------------------------------


def prior_names() -> list[str]:
    """Names of the shipped priors, plus ``reference`` (the models' own sampling)."""
    return sorted(p.stem for p in PRIOR_DIR.glob("*.json")) + [REFERENCE]


@functools.cache
def _shipped(name: str) -> Prior:
    path = PRIOR_DIR / f"{name}.json"
    return read_prior(path)


def read_prior(path: Path | str) -> Prior:
    """The prior in the file at ``path``, or a one-line error."""
    from semantify.files import read_json

    path = Path(path)
    if not path.is_file():
        raise SemantifyError(f"prior file {path} does not exist; pass a shipped prior name "
                             f"({', '.join(prior_names())}) or an existing .json file.")
    return Prior.from_dict(read_json(path, f"prior file {path}", "fix the JSON"), str(path))


def resolve_prior(choice: str | Path | Prior | None, model) -> Prior:
    """The prior for ``model``: ``choice`` (a shipped name, ``reference``, a .json path or a
    :class:`Prior`), or by default the model's own (``model.prior_name``), else the fallback."""
    if isinstance(choice, Prior):
        prior = choice
    elif choice is None:
        name = getattr(model, "prior_name", None)
        prior = _shipped(name) if name else Prior.reference(model)
    elif str(choice) == REFERENCE:
        prior = Prior.reference(model)
    elif str(choice).endswith(".json"):
        prior = read_prior(choice)
    elif str(choice) in prior_names():
        prior = _shipped(str(choice))
    else:
        raise SemantifyError(f"unknown prior {str(choice)!r}; choose one of "
                             f"{', '.join(prior_names())}, or a .json prior file.")
    if not prior.fallback:
        prior.bind(model)  # validate the names against this model now, in one line
    return prior
