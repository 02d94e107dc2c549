"""Is this body a person? Proportions as data, checked on measurements.

Refinement may meet every asked value with a body nobody has (stick legs under a barrel chest,
an inseam of half the height). The checks are data (``human_checks.json`` beside this file: each
skeletal length as a share of height, within the range adults have, with their source); this
module only reads and applies them. Visible self-intersections are the other human check
(:func:`semantify.models.self_intersection.detector_for`). The values people have of each
measurement a survey measured (``survey_ranges.json``) are data too: a metric set's sliders cover
them.
"""

from __future__ import annotations

import dataclasses
import functools
import types
from collections.abc import Mapping
from pathlib import Path

import torch

from semantify.errors import SemantifyError
from semantify.files import check_format, read_json
from semantify.measurements.registry import MEASUREMENTS

CHECKS_JSON = Path(__file__).with_name("human_checks.json")
FORMAT, VERSION = "semantify-human-checks", 1


@dataclasses.dataclass(frozen=True)
class Ratio:
    """``length`` / ``of`` must lie in ``low``..``high``."""

    length: str
    of: str
    low: float
    high: float

    def __post_init__(self):
        for name in (self.length, self.of):
            if name not in MEASUREMENTS:
                raise SemantifyError(f"human check names unknown measurement {name!r}; use one "
                                     f"of {', '.join(MEASUREMENTS)}.")
        if not 0 < self.low < self.high:
            raise SemantifyError(f"human check {self.length}/{self.of} needs 0 < low < high.")

    def failed(self, measured: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """(B,) whether each body's ratio lies outside the range."""
        ratio = measured[self.length].double() / measured[self.of].double()
        return ~((ratio >= self.low) & (ratio <= self.high))

    def describe(self) -> str:
        return f"{self.length}/{self.of} {self.low:.3f}-{self.high:.3f}"


@functools.cache
def human_ratios() -> tuple[Ratio, ...]:
    """The proportion checks in ``human_checks.json``."""
    fix = "reinstall Semantify"
    data = check_format(read_json(CHECKS_JSON, "human checks", fix), FORMAT, VERSION,
                        "human checks", fix)
    return tuple(Ratio(r["length"], r["of"], float(r["low"]), float(r["high"]))
                 for r in data["ratios"])


def inhuman(measured: Mapping[str, torch.Tensor]) -> list[list[str]]:
    """{name: (B,)} measurements -> per body, the proportion checks it fails (empty: human)."""
    ratios = [r for r in human_ratios() if r.length in measured and r.of in measured]
    if not ratios:
        return []
    failed = torch.stack([r.failed(measured) for r in ratios], 1)  # (B, R)
    return [[r.describe() for r, bad in zip(ratios, row) if bad] for row in failed.tolist()]


SURVEY_JSON = Path(__file__).with_name("survey_ranges.json")
SURVEY_FORMAT, SURVEY_VERSION = "semantify-survey-ranges", 1


@dataclasses.dataclass(frozen=True)
class SurveyRange:
    """The values people have of measurement ``name``: ``low``..``high`` (the survey's 99%
    region given sex, over both sexes)."""

    name: str
    low: float
    high: float

    def __post_init__(self):
        if self.name not in MEASUREMENTS:
            raise SemantifyError(f"survey range names unknown measurement {self.name!r}; use "
                                 f"one of {', '.join(MEASUREMENTS)}.")
        if not self.low < self.high:
            raise SemantifyError(f"survey range of {self.name} needs low < high.")


@functools.cache
def survey_ranges() -> Mapping[str, SurveyRange]:
    """{measurement: its range} in ``survey_ranges.json`` (those a survey measured)."""
    fix = "reinstall Semantify"
    data = check_format(read_json(SURVEY_JSON, "survey ranges", fix), SURVEY_FORMAT,
                        SURVEY_VERSION, "survey ranges", fix)
    ranges = (SurveyRange(r["name"], float(r["low"]), float(r["high"])) for r in data["ranges"])
    return types.MappingProxyType({r.name: r for r in ranges})  # cached: read-only
