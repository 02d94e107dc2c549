"""Every measurement Semantify knows: its name, label, unit, how it is taken, and whether
metric refinement can steer a shape toward it.

This is the one place that decides "is this descriptor a measurement, and in which unit":
descriptor values, slider sets, metric refinement, evaluation and the app's table all ask it.
The measuring itself is :class:`semantify.measurements.anthropometer.Anthropometer`.
"""

from __future__ import annotations

import dataclasses

# Suffixes that mark a name as meant to be a measurement ("waist_in" is not one we know).
UNIT_SUFFIXES = ("_cm", "_kg", "_mm", "_m", "_m2", "_m3", "_l", "_in", "_lb")


@dataclasses.dataclass(frozen=True)
class Measurement:
    """One measurement: ``name`` as descriptors spell it (``height_cm``), a ``label`` for
    people, its ``unit``, ``how`` it is taken, whether refinement can aim for it
    (``refinable``) and within what ``tolerance`` (in ``unit``) a refined value counts as met.
    ``skeletal``: a length set by the skeleton, not by soft tissue; refinement holds the
    skeletal lengths nobody asked for where a body with the asked ones has them."""

    name: str
    label: str
    unit: str
    how: str
    refinable: bool = True
    tolerance: float = 0.1
    skeletal: bool = False

    @property
    def heading(self) -> str:
        """``Height (cm)``: the label with its unit, as tables and sliders show it."""
        return f"{self.label} ({self.unit})"


MEASUREMENTS: dict[str, Measurement] = {m.name: m for m in (
    Measurement("height_cm", "Height", "cm", "top of the head to the soles", skeletal=True),
    Measurement("chest_cm", "Chest", "cm", "tape girth at the nipples (hull of the torso section)"),
    Measurement("waist_cm", "Waist", "cm", "tape girth at the natural waist"),
    Measurement("hips_cm", "Hips", "cm", "tape girth at the buttocks"),
    Measurement("inseam_cm", "Inseam", "cm", "crotch height above the floor", skeletal=True),
    Measurement("arm_cm", "Arm length", "cm", "shoulder point, elbow, wrist; mean of both arms",
                skeletal=True),
    Measurement("shoulder_cm", "Shoulder width", "cm", "straight line between the acromions",
                skeletal=True),
    Measurement("mass_kg", "Mass", "kg", "enclosed volume times 985 kg/m^3"),
)}


def measurement(name: str) -> Measurement | None:
    """The measurement called ``name``, or None for a CLIP word."""
    return MEASUREMENTS.get(name)


def is_measurement(name: str) -> bool:
    return name in MEASUREMENTS


def looks_like_measurement(name: str) -> bool:
    """Whether ``name`` is spelled like a measurement (``height_cm``), known or not, or like a
    typo of one (``height_cmm``): such a name is never scored as a CLIP word."""
    import difflib

    return " " not in name and (name.lower().endswith(UNIT_SUFFIXES) or bool(
        difflib.get_close_matches(name.lower(), MEASUREMENTS, n=1, cutoff=0.85)))
