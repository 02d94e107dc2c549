"""A word slider's receipt: what it does in centimetres and kilograms, measured on the meshes.

Sweeping a word slider from its low to its high end with the others at their defaults, the
receipt records the change of every registered measurement (height, mass, waist... on bodies,
by the Anthropometer; head, face width, eye distance, mouth opening and smile on Anny's faces,
by the HeadMeter of :mod:`semantify.measurements.head`), whether
it moves one way only, and two flags: ``weak`` (it does almost nothing) and ``off-target`` (it
mostly moves something its word does not name). It is measured on the meshes, never on the
encoder, so it means the same with real CLIP on a user's machine as with the test encoder.

``semantify evaluate`` writes receipts into ``evaluation.json``; the model card and the app
read them back with :func:`read_receipts` (a set evaluated before receipts existed has none,
and says so in one line).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import torch

from semantify.errors import SemantifyError
from semantify.files import read_json_or_none

GRID = 9
# A typical adult spread (interquartile range / 1.35) of each measurement, in its unit
# (NHANES 2017-2020 for height, mass and waist; ANSUR II, rounded, for the rest): changes are
# compared in these units, so that 1 cm of shoulder counts more than 1 cm of waist.
SPREAD = {"height_cm": 10.8, "mass_kg": 21.0, "waist_cm": 16.7, "chest_cm": 10.0,
          "hips_cm": 10.0, "inseam_cm": 4.5, "arm_cm": 3.5, "shoulder_cm": 2.5,
          # Heads, in cm. ANSUR II (2012), men and women pooled, rounded: head circumference
          # (SD about 1.6 each, means 2.3 apart) -> 2.0; bizygomatic breadth (SD about 0.55,
          # means 1.0 apart) -> 0.7. Interpupillary distance: Dodgson (2004), SD 0.38 -> 0.4.
          "head_cm": 2.0, "face_cm": 0.7, "eyes_cm": 0.4,
          # No adult table measures expressions, so these come from Anny's own range: the SD of
          # a uniform spread over it (range / sqrt(12)). Mouth: pressed -0.8 (mouthClose) to
          # open 2.4 (jawOpen) -> 0.9; corners: frown -0.2 to smile 1.6 (mouthSmile*) -> 0.5.
          "mouth_open_cm": 0.9, "smile_cm": 0.5}
WEAK = 0.1  # a slider whose every change is below this share of its spread does almost nothing
NOISE = 0.02  # a step back smaller than this share of the spread is not a reversal
# Which measurements a word's tokens name (a word naming none of those its model measures is
# never called off-target).
NAMED = {
    **{word: ("height_cm", "inseam_cm", "arm_cm", "shoulder_cm")  # limbs grow with height
       for word in ("tall", "short", "height")},
    "petite": ("height_cm", "mass_kg"), "big": ("height_cm", "mass_kg"),
    "small": ("height_cm", "mass_kg"), "lanky": ("height_cm", "mass_kg"),
    "long": ("height_cm", "inseam_cm", "arm_cm"),
    "legs": ("inseam_cm",), "torso": ("inseam_cm", "height_cm"), "arms": ("arm_cm",),
    "shoulders": ("shoulder_cm",), "chest": ("chest_cm",), "hips": ("hips_cm",),
    "waist": ("waist_cm",), "belly": ("waist_cm", "mass_kg"), "stomach": ("waist_cm",),
    **{word: ("mass_kg", "waist_cm", "chest_cm", "hips_cm") for word in (
        "fat", "thin", "skinny", "slim", "slender", "lean", "chubby", "plump", "overweight",
        "obese", "heavyset", "heavy", "stocky", "stout", "bulky", "curvy", "round")},
    # Faces (Anny's face models, measured by the HeadMeter).
    **{word: ("smile_cm",) for word in (
        "smiling", "smile", "smiles", "smiley", "grin", "grinning", "frowning", "frown")},
    **{word: ("mouth_open_cm",) for word in (
        "open", "closed", "mouth", "jaw", "yawning", "yawn", "gaping", "agape")},
    **{word: ("face_cm",) for word in ("wide", "narrow", "broad", "cheeks", "cheekbones")},
    "head": ("head_cm",), "eyes": ("eyes_cm",),
}


@dataclasses.dataclass(frozen=True)
class Change:
    """One measurement along a sweep: its value at the slider's ``low`` and ``high`` end and
    the largest step against the overall direction (``reversal``, 0 when monotonic)."""

    name: str
    unit: str
    low: float
    high: float
    reversal: float = 0.0

    @property
    def label(self) -> str:
        """``mouth open`` for ``mouth_open_cm``: the name without its unit."""
        return self.name.rsplit("_", 1)[0].replace("_", " ")

    @property
    def delta(self) -> float:
        return self.high - self.low

    @property
    def monotonic(self) -> bool:
        return self.reversal <= NOISE * SPREAD.get(self.name, 1.0)

    @property
    def relative(self) -> float:
        """|delta| in typical adult spreads of this measurement."""
        return abs(self.delta) / SPREAD.get(self.name, 1.0)

    def text(self) -> str:
        return f"{self.label} {self.delta:+.1f} {self.unit}"


@dataclasses.dataclass(frozen=True)
class Receipt:
    """What word slider ``slider`` does from its low to its high end (others at defaults)."""

    slider: str
    changes: tuple[Change, ...]

    def __post_init__(self):
        if not isinstance(self.slider, str) or not self.slider:
            raise SemantifyError("a receipt needs its slider's name; evaluate the set again.")

    @property
    def named(self) -> tuple[str, ...]:
        """The measurements the slider's word names (see :data:`NAMED`) among those this
        receipt measured ("wide" names face width on a face, nothing on a body)."""
        tokens = self.slider.lower().replace("-", " ").split()
        measured = {c.name for c in self.changes}
        return tuple(dict.fromkeys(m for token in tokens for m in NAMED.get(token, ())
                                   if m in measured))

    @property
    def largest(self) -> Change | None:
        return max(self.changes, key=lambda c: c.relative, default=None)

    @property
    def flags(self) -> tuple[str, ...]:
        """``weak``, ``off-target``, ``reverses`` (a measurement its word names, or else its
        largest change, is not one-way), or ()."""
        largest = self.largest
        if largest is None:
            return ()
        flags = []
        if largest.relative < WEAK:
            flags.append("weak")
        elif self.named and largest.name not in self.named:
            flags.append("off-target")
        judged = [c for c in self.changes if c.name in self.named] or [largest]
        if any(not c.monotonic and c.relative >= WEAK for c in judged):
            flags.append("reverses")
        return tuple(flags)

    def change(self, name: str) -> Change | None:
        return next((c for c in self.changes if c.name == name), None)

    def line(self, shown: int = 3) -> str:
        """One line for people: the largest changes low -> high, then any warning."""
        if not self.changes:
            return "low to high: no measurements on this model."
        ordered = sorted(self.changes, key=lambda c: -c.relative)[:shown]
        text = "low to high: " + ", ".join(c.text() for c in ordered)
        largest = self.largest
        if "weak" in self.flags:
            text += " (does almost nothing)"
        if "off-target" in self.flags:
            text += f" (mostly moves {largest.label}, which it does not name)"
        if "reverses" in self.flags:
            text += " (not one-way)"
        return text

    def to_dict(self) -> dict:
        return {"slider": self.slider, "flags": list(self.flags),
                "changes": [dataclasses.asdict(c) for c in self.changes]}

    @classmethod
    def from_dict(cls, record: dict) -> Receipt:
        try:
            return cls(str(record["slider"]),
                       tuple(Change(str(c["name"]), str(c["unit"]), float(c["low"]),
                                    float(c["high"]), float(c.get("reversal", 0.0)))
                             for c in record["changes"]))
        except (KeyError, TypeError, ValueError):
            raise SemantifyError("a receipt in evaluation.json is damaged; run `semantify "
                                 "evaluate` on the set again.") from None


def measure_receipts(slider_set, grid: int = GRID) -> tuple[Receipt, ...]:
    """The receipt of each word slider of ``slider_set``, measured on its meshes."""
    words = slider_set.word_names
    if not words:
        return ()
    meter = _meter(slider_set)
    if meter is None:
        return tuple(Receipt(word, ()) for word in words)
    defaults = torch.tensor(slider_set.defaults, dtype=torch.float64)
    receipts = []
    for word in words:
        i = slider_set.names.index(word)
        slider = slider_set.sliders[i]
        values = defaults.repeat(grid, 1)
        values[:, i] = torch.linspace(slider.low, slider.high, grid, dtype=torch.float64)
        with torch.no_grad():
            measured = meter(slider_set.model(slider_set.coefficients(values)))
        changes = []
        for name, (series, unit) in measured.items():
            direction = np.sign(series[-1] - series[0]) or 1.0
            against = np.clip(-direction * np.diff(series), 0.0, None)
            changes.append(Change(name, unit, float(series[0]), float(series[-1]),
                                  float(against.max(initial=0.0))))
        receipts.append(Receipt(word, tuple(changes)))
    return tuple(receipts)


def _meter(slider_set):
    """A function (B, V, 3) vertices -> {name: ((B,) float64 values, unit)} over the set's
    :attr:`~semantify.sets.sliders.SliderSet.meter` (a body's units from the registry, a
    head's all in cm), or None (nothing to measure)."""
    from semantify.measurements.head import UNIT, HeadMeter
    from semantify.measurements.registry import measurement

    meter = slider_set.meter
    if meter is None:
        return None

    def measure(vertices) -> dict[str, tuple[np.ndarray, str]]:
        head = isinstance(meter, HeadMeter)
        return {name: (np.asarray(torch.as_tensor(column).double()),
                       UNIT if head else known.unit if (known := measurement(name)) else "")
                for name, column in meter.measure(vertices).items()}
    return measure


def read_receipts(root: Path | str | None) -> dict[str, Receipt] | None:
    """{slider: Receipt} from a set folder's ``evaluation/evaluation.json``, or None when the
    set has none (never evaluated, or evaluated before receipts existed)."""
    if root is None:
        return None
    report = read_json_or_none(Path(root) / "evaluation" / "evaluation.json")
    if not isinstance(report, dict) or not isinstance(report.get("receipts"), list):
        return None
    receipts = [Receipt.from_dict(r) for r in report["receipts"] if isinstance(r, dict)]
    return {r.slider: r for r in receipts}


NO_RECEIPTS = ("no receipts: this set was evaluated before receipts existed (or never); run "
               "`semantify evaluate` on it to measure what each word slider does.")
