"""How the page names and groups a raw model's coefficients: ``chin-cleft-incr`` reads
``Chin: cleft`` in the region ``Chin``, ``mouthSmileLeft`` reads ``Mouth: smile left``, and
``measure-upperarm-length-incr`` reads ``Upper arm: length``. A name of one word (``weight``,
``beta3``) keeps its own name and has no region.

    labelled(name)                  # SliderLabel(region='Chin', text='Chin: cleft')
    regions(names)                  # ['Chin', 'Ear', ...] in the order they first appear
    matches(label, region, "smi")   # whether a slider passes the page's region and filter
"""

from __future__ import annotations

import dataclasses
import re

ALL_REGIONS = "all regions"
# Parts of MPFB/Anny modifier names, as people say them ("" drops the part: a slider's
# right-hand end is already "more").
WORDS = {"incr": "", "decr": "less", "trans": "move", "rot": "turn", "scale": "", "horiz": "width",
         "vert": "height", "circ": "girth", "measure": ""}
REGIONS = {"upperarm": "Upper arm", "lowerarm": "Lower arm", "upperleg": "Upper leg",
           "upperlegs": "Upper leg", "lowerleg": "Lower leg", "lowerlegs": "Lower leg"}
_CAMEL = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


@dataclasses.dataclass(frozen=True)
class SliderLabel:
    """What the page shows for one coefficient: its ``region`` ("" for none) and ``text``."""

    region: str
    text: str


def _words(name: str) -> list[str]:
    parts = name.split("-") if "-" in name else _CAMEL.findall(name)
    return [part.lower() for part in parts if part]


def labelled(name: str) -> SliderLabel:
    """The readable label and region of coefficient ``name``."""
    words = [word for word in _words(name) if word != "measure"]
    if len(words) < 2:
        return SliderLabel("", name)
    region = REGIONS.get(words[0], words[0].capitalize())
    rest = " ".join(WORDS.get(word, word) for word in words[1:]).split()
    return SliderLabel(region, f"{region}: {' '.join(rest) or 'size'}")


def regions(names) -> list[str]:
    """The regions of ``names``, each once, in the order they first appear."""
    return list(dict.fromkeys(r for r in (labelled(n).region for n in names) if r))


def matches(label: SliderLabel, region: str, text: str) -> bool:
    """Whether a slider labelled ``label`` is shown for the page's ``region`` choice and
    filter ``text`` (case-insensitive, any part of the label)."""
    return (region in ("", ALL_REGIONS) or label.region == region) and \
        str(text or "").strip().lower() in label.text.lower()
