"""``--clip geometry``: a TEST encoder whose meaning is known (it is not CLIP).

Real CLIP weights cannot be checked where they cannot be downloaded; this encoder lets the
whole pipeline (generate, select, train, words, build, fit, text) run on scores that mean
something. Its image side reads the very pixels CLIP would get (the same renders, views, crops
and letterboxing) and measures the figure: silhouette height, widths at several heights, leg
proportion and head width; from a side view (no gap between the legs, no arms held out) the
body's depths instead of its widths; from a portrait the expression (``geometry_face``). Its
text side maps a fixed lexicon of words (``geometry_lexicon.json``) to directions in that
feature space, and every other word to a seeded random direction. Embeddings are unit
vectors, so scores are 100 x cosine as CLIP's are.

An image embedding is ``[ANCHOR, z_1 .. z_F, 0 ...]`` normalised, where ``z_i`` is feature i
standardised by the lexicon's population centre and scale; where the view cannot show a
feature (a front view's depths, a side view's widths) it reads the population's typical value
(the lexicon's ``neutral``, else the centre); a word's embedding is the sum of
its lexicon directions (and random directions for unknown words), normalised.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import re
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from semantify.clip import images as image_ops
from semantify.clip.geometry_face import FACE_FEATURES, face_features, is_portrait
from semantify.errors import SemantifyError

LEXICON = Path(__file__).parent / "geometry_lexicon.json"
LEXICON_FORMAT = "semantify-geometry-lexicon"
EMBED_DIM = 64
IMAGE_SIZE = 224
ANCHOR = 20.0  # the constant component: the norm barely moves, so scores are ~linear in features
Z_LIMIT = 4.0  # standardised features are clipped to +-Z_LIMIT
FOREGROUND = 0.06  # a pixel differing this much (0-1, any channel) from the border is figure
TEXT_CONTEXT = 77  # words read from a prompt, as CLIP reads about 77 tokens
# What the image side measures, in the order of the embedding's feature dimensions.
FEATURES = ("height", "shoulder_width", "chest_width", "waist_width", "hip_width",
            "thigh_width", "calf_width", "leg_ratio", "head_width", "chest_depth",
            "waist_depth", "hip_depth") + FACE_FEATURES
# Where the widths are taken, as shares of the figure's height from its top.
BODY_ROWS = {"shoulder_width": 0.19, "chest_width": 0.30, "waist_width": 0.40,
             "hip_width": 0.50, "thigh_width": 0.62, "calf_width": 0.80}
# A side view's depths, at the rows of the widths they replace.
DEPTHS = {"chest_depth": "chest_width", "waist_depth": "waist_width", "hip_depth": "hip_width"}
FRONT_ONLY = tuple(BODY_ROWS) + ("leg_ratio",)
# A portrait shows no body: its height and widths are where the frame cuts it
PORTRAIT_HIDES = ("height", *BODY_ROWS, "leg_ratio")
SIDE_LEGS = 0.1  # a whole body with less gap between its legs than this share of its height,
SIDE_SPAN = 0.45  # and narrower than this share of it (no arms held out), is seen from the side


@dataclasses.dataclass(frozen=True)
class Lexicon:
    """The encoder's data: features (name -> centre, scale), words (word -> {feature:
    weight}), the words a prompt's template adds that carry no meaning (``ignored``), and
    ``side``: (name, centre, scale) of features a side view measures on another ruler (its
    height: the side camera sees a body a few pixels taller), and ``neutral``: (name, value)
    the raw value that a view which cannot show a feature reports (the population's median
    in the views that show it: a side view has a typical front's widths, a front view a
    typical side's depths), so that a side view of a body reads as its front view does."""

    features: tuple[tuple[str, float, float], ...]
    words: dict
    ignored: frozenset
    side: tuple[tuple[str, float, float], ...] = ()
    neutral: tuple[tuple[str, float], ...] = ()

    def __post_init__(self):
        names = [name for name, _, _ in self.features]
        unknown = sorted({f for d in self.words.values() for f in d} - set(names))
        if unknown or set(names) - set(FEATURES):
            bad = unknown or sorted(set(names) - set(FEATURES))
            raise SemantifyError(f"geometry lexicon names unknown feature {bad[0]!r}; features "
                                 f"are {', '.join(FEATURES)}.")
        if len(names) >= EMBED_DIM:
            raise SemantifyError(f"geometry lexicon has {len(names)} features; the embedding "
                                 f"holds at most {EMBED_DIM - 1}.")
        if ({name for name, _, _ in self.side} | {name for name, _ in self.neutral}) - set(names):
            raise SemantifyError("geometry lexicon calibrates a view of a feature it does not "
                                 "list; restore semantify/clip/geometry_lexicon.json.")
        if any(not scale > 0 for _, _, scale in self.features + self.side):
            raise SemantifyError("geometry lexicon has a feature whose scale is not positive; "
                                 "restore semantify/clip/geometry_lexicon.json.")
        flat = [word for word, direction in self.words.items() if not any(direction.values())]
        if flat:
            raise SemantifyError(f"geometry lexicon word {flat[0]!r} has no direction; give it "
                                 "a feature weight or remove it.")

    @classmethod
    def read(cls, path: Path | str = LEXICON) -> Lexicon:
        """The lexicon in ``path``, or a one-line error if it is not one."""
        from semantify.files import check_format, read_json

        fix = "restore semantify/clip/geometry_lexicon.json"
        record = check_format(read_json(Path(path), str(path), fix), LEXICON_FORMAT, 1,
                              str(path), fix + ".")
        try:
            features = tuple((str(name), float(spec["centre"]), float(spec["scale"]))
                             for name, spec in record["features"].items())
            words = {str(word).lower(): {str(f): float(w) for f, w in direction.items()}
                     for word, direction in record["words"].items()}
            ignored = frozenset(str(word).lower() for word in record["ignored"])
            side = tuple((str(name), float(spec["side_centre"]), float(spec["side_scale"]))
                         for name, spec in record["features"].items() if "side_centre" in spec)
            neutral = tuple((str(name), float(spec["neutral"]))
                            for name, spec in record["features"].items() if "neutral" in spec)
        except (KeyError, TypeError, ValueError, AttributeError):
            raise SemantifyError(f"{path} is not a geometry lexicon (features, words, ignored); "
                                 "restore semantify/clip/geometry_lexicon.json.") from None
        return cls(features, words, ignored, side, neutral)

    @property
    def names(self) -> list[str]:
        return [name for name, _, _ in self.features]


def _prepared(images: torch.Tensor) -> np.ndarray:
    """uint8 (N, H, W, 3) -> float32 (N, IMAGE_SIZE, IMAGE_SIZE, 3) in 0..1: letterboxed and
    resized exactly as CLIP's input is (before its normalisation)."""
    x = images.permute(0, 3, 1, 2).to(torch.float32).div_(255.0)
    x = image_ops.pad_to_square(x)
    if x.shape[-1] != IMAGE_SIZE:
        x = torch.nn.functional.interpolate(x, size=(IMAGE_SIZE, IMAGE_SIZE), mode="bicubic",
                                            antialias=True, align_corners=False).clamp_(0, 1)
    return x.permute(0, 2, 3, 1).numpy()


def _run_width(row: np.ndarray, centre: int) -> float:
    """Width (pixels) of the figure around column ``centre`` in a boolean ``row``: the run
    holding it, or (a gap, between legs) the nearest runs on each side and the gap."""
    filled = np.flatnonzero(row)
    if filled.size == 0:
        return 0.0
    if not row[centre]:
        left, right = filled[filled < centre], filled[filled > centre]
        if left.size == 0 or right.size == 0:
            return 0.0
        centre_left, centre_right = int(left[-1]), int(right[0])
    else:
        centre_left = centre_right = centre
    gaps_left = np.flatnonzero(~row[:centre_left + 1])
    gaps_right = np.flatnonzero(~row[centre_right:])
    lo = int(gaps_left[-1]) + 1 if gaps_left.size else 0
    hi = centre_right + int(gaps_right[0]) if gaps_right.size else row.size
    return float(hi - lo)


def figure_features(image: np.ndarray) -> np.ndarray:
    """float32 (H, W, 3) image in 0..1 -> float64 (len(FEATURES),) measurements of the figure
    in it, in image fractions (0 where there is no figure, NaN where this view cannot show
    the feature: a front view's depths, a side view's widths, a whole body's expression)."""
    size = image.shape[0]
    border = np.median(np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]]), 0)
    difference = np.abs(image - border).max(-1)
    coverage = np.clip(difference / FOREGROUND, 0.0, 1.0)
    mask = coverage > 0.5
    out = np.zeros(len(FEATURES))
    rows = np.flatnonzero(mask.any(1))
    if rows.size < 4:  # no figure: neither a side view nor a face
        out[[FEATURES.index(name) for name in tuple(DEPTHS) + FACE_FEATURES]] = np.nan
        return out
    top, bottom = int(rows[0]), int(rows[-1])
    height = coverage.max(1).sum()  # soft: antialiased rows count in part
    centre = round(float(np.average(np.arange(mask.shape[1]), weights=mask.sum(0))))
    out[FEATURES.index("height")] = height / size
    span = bottom - top
    for name, fraction in BODY_ROWS.items():
        row = top + round(fraction * span)
        widths = [_run_width(mask[r], centre) for r in range(max(row - 1, 0), min(row + 2, size))]
        out[FEATURES.index(name)] = float(np.mean(widths)) / size
    column = mask[top:bottom + 1, centre][::-1]  # up from the soles
    filled = np.flatnonzero(column)
    gap = int(filled[0]) if filled.size else 0  # the gap between the legs, up to the crotch
    out[FEATURES.index("leg_ratio")] = gap / max(span, 1)
    out[FEATURES.index("head_width")] = _head_width(mask, top, span) / size
    face = np.full(len(FACE_FEATURES), np.nan)
    if is_portrait(mask):
        measured = face_features(image, difference, mask)
        face = [measured[name] for name in FACE_FEATURES]
        out[[FEATURES.index(name) for name in (*DEPTHS, *PORTRAIT_HIDES)]] = np.nan
    else:
        columns = np.flatnonzero(mask.any(0))
        side = (out[FEATURES.index("leg_ratio")] < SIDE_LEGS
                and columns[-1] - columns[0] + 1 < SIDE_SPAN * (span + 1))
        for depth, width in DEPTHS.items():
            out[FEATURES.index(depth)] = out[FEATURES.index(width)] if side else np.nan
        if side:
            out[[FEATURES.index(name) for name in FRONT_ONLY]] = np.nan
    out[[FEATURES.index(name) for name in FACE_FEATURES]] = face
    return out


def _head_width(mask: np.ndarray, top: int, span: int) -> float:
    """The most figure pixels in one row of the top sixth of the figure (the cranium of a
    body, the head of a portrait)."""
    rows = range(top, top + max(span // 6, 1))
    return max(float(mask[r].sum()) for r in rows)


class GeometryScorer:
    """The scorer of ``--clip geometry``: CLIP's interface (encode_images, encode_photo,
    encode_text, embed_prompt), geometric meaning. Runs on CPU whatever ``device`` says."""

    def __init__(self, spec, device: str = "cpu", lexicon: Lexicon | None = None):
        self.spec = spec
        self.device = torch.device("cpu")
        self.dtype = torch.float32
        self.embed_dim = EMBED_DIM
        self.image_size = IMAGE_SIZE
        self.lexicon = lexicon or read_lexicon()
        self._centre = np.array([c for _, c, _ in self.lexicon.features])
        self._scale = np.array([s for _, _, s in self.lexicon.features])
        self._side_centre, self._side_scale = self._centre.copy(), self._scale.copy()
        for name, centre, scale in self.lexicon.side:
            i = self.lexicon.names.index(name)
            self._side_centre[i], self._side_scale[i] = centre, scale
        self._neutral = self._centre.copy()  # a feature no view measures differently: z = 0
        for name, value in self.lexicon.neutral:
            self._neutral[self.lexicon.names.index(name)] = value
        self._index = [FEATURES.index(name) for name in self.lexicon.names]

    def __repr__(self) -> str:
        return f"GeometryScorer({self.spec.label})"

    def features(self, images) -> np.ndarray:
        """uint8 (N, H, W, 3) -> float64 (N, len(FEATURES)) raw measurements (NaN where the
        view cannot show one)."""
        pixels = _prepared(image_ops.as_uint8_batch(images))
        return np.stack([figure_features(image) for image in pixels]) if len(pixels) else \
            np.zeros((0, len(FEATURES)))

    def encode_images(self, images, batch_size: int = 64) -> torch.Tensor:
        """uint8 (N, H, W, 3) -> float32 (N, EMBED_DIM) unit vectors."""
        measured = self.features(images)
        side = ~np.isnan(measured[:, FEATURES.index("chest_depth")])[:, None]  # depths seen
        raw = measured[:, self._index]
        raw = np.where(np.isnan(raw), self._neutral, raw)  # what this view cannot show
        centre = np.where(side, self._side_centre, self._centre)
        scale = np.where(side, self._side_scale, self._scale)
        z = np.clip((raw - centre) / scale, -Z_LIMIT, Z_LIMIT)
        out = torch.zeros(len(raw), EMBED_DIM, dtype=torch.float32)
        out[:, 0] = ANCHOR
        out[:, 1:1 + z.shape[1]] = torch.from_numpy(z).float()
        return torch.nn.functional.normalize(out, dim=-1)

    def encode_photo(self, image: Image.Image) -> torch.Tensor:
        """A photo -> float32 (EMBED_DIM,), letterboxed whole as CLIP's photos are."""
        return self.encode_images(image_ops.prepare_photo(image, self.image_size)[None])[0]

    def encode_text(self, descriptors: list[str], template: str = "{}") -> torch.Tensor:
        """float32 (K, EMBED_DIM) unit embeddings of ``template`` filled with each one."""
        from semantify.clip.prompts import fill

        if isinstance(descriptors, str):
            raise SemantifyError(f"encode_text takes a list of descriptors, got the string "
                                 f"{descriptors!r}; wrap it in a list.")
        if not descriptors:
            return torch.empty(0, EMBED_DIM, dtype=torch.float32)
        return torch.stack([self._text(fill(template, d))[0] for d in descriptors])

    def embed_prompt(self, prompt: str) -> tuple[torch.Tensor, bool]:
        """float32 (EMBED_DIM,) of a free-text prompt and whether all of it was read."""
        return self._text(prompt)

    def _text(self, text: str) -> tuple[torch.Tensor, bool]:
        words = re.findall(r"[a-z0-9]+(?:['-][a-z0-9]+)*", text.lower())
        fitted = len(words) <= TEXT_CONTEXT
        words = words[:TEXT_CONTEXT]
        direction = torch.zeros(EMBED_DIM, dtype=torch.float64)
        longest = max((len(w.split()) for w in self.lexicon.words), default=1)
        i = 0
        while i < len(words):
            for n in range(min(longest, len(words) - i), 0, -1):
                phrase = " ".join(words[i:i + n])
                if phrase in self.lexicon.words:
                    direction += self._lexicon_direction(phrase)
                    i += n
                    break
            else:
                if words[i] not in self.lexicon.ignored:
                    direction += random_direction(words[i])
                i += 1
        if not direction.any():
            direction = random_direction(text)
        return torch.nn.functional.normalize(direction.float(), dim=0), fitted

    def _lexicon_direction(self, phrase: str) -> torch.Tensor:
        vector = torch.zeros(EMBED_DIM, dtype=torch.float64)
        for name, weight in self.lexicon.words[phrase].items():
            vector[1 + self.lexicon.names.index(name)] = weight
        return torch.nn.functional.normalize(vector, dim=0)


def random_direction(word: str) -> torch.Tensor:
    """float64 (EMBED_DIM,) unit vector seeded by ``word`` (the anchor dimension left out)."""
    seed = int.from_bytes(hashlib.sha256(word.encode("utf-8")).digest()[:8], "little")
    vector = torch.randn(EMBED_DIM, generator=torch.Generator().manual_seed(seed),
                         dtype=torch.float64)
    vector[0] = 0.0
    return torch.nn.functional.normalize(vector, dim=0)


@functools.cache
def lexicon_sha256() -> str:
    """Short sha256 of the shipped lexicon: what geometry scores depend on, recorded with them."""
    from semantify.clip.spec import SHA_CHARS

    return hashlib.sha256(LEXICON.read_bytes()).hexdigest()[:SHA_CHARS]


@functools.cache
def read_lexicon() -> Lexicon:
    """The shipped lexicon, read once per process."""
    return Lexicon.read(LEXICON)
