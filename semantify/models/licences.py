"""The licence of each 3DMM, as data (``licences.json``): what a shared slider set must state.

A slider set never holds model data (no template, blend shapes or skinning weights), only a
small network and statistics; but a set for a licensed model (SMPL, SMPL-X, FLAME, SMAL) is
useless without that model's files, which each user must obtain under its licence. Model
cards on the Hub say so plainly (:mod:`semantify.sets.card_metadata`).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
import json
from pathlib import Path

from semantify.errors import SemantifyError
from semantify.files import check_format

LICENCES_JSON = Path(__file__).with_name("licences.json")
FORMAT, VERSION = "semantify-licences", 1


@dataclasses.dataclass(frozen=True)
class ModelLicence:
    """The licence of the models whose id matches ``models`` (an fnmatch pattern).

    ``license`` is the Hub's licence identifier (``apache-2.0``, or ``other`` with
    ``license_name`` and ``link``); ``licensed`` says whether users must get the model files
    themselves; ``statement`` is the sentence a model card shows.
    """

    models: str
    tag: str
    family_name: str
    license: str
    licensed: bool
    statement: str
    license_name: str | None = None
    link: str | None = None

    def front_matter(self) -> dict:
        """The licence keys of a Hub model card's YAML metadata."""
        keys = {"license": self.license}
        if self.license == "other":
            keys["license_name"] = self.license_name
            if self.link:
                keys["license_link"] = self.link
        return keys


@functools.cache
def licences() -> tuple[ModelLicence, ...]:
    """Every entry of ``licences.json``, in file order (the first match wins)."""
    data = json.loads(LICENCES_JSON.read_text())
    check_format(data, FORMAT, VERSION, str(LICENCES_JSON), "reinstall Semantify.")
    return tuple(ModelLicence(**entry) for entry in data["licences"])


def licence_for(model_id: str) -> ModelLicence:
    """The licence of ``model_id``, or a one-line error naming the ids that have one."""
    for entry in licences():
        if fnmatch.fnmatchcase(model_id, entry.models):
            return entry
    known = ", ".join(entry.models for entry in licences())
    raise SemantifyError(f"no licence is recorded for model {model_id!r} (known: {known}); "
                         "add it to semantify/models/licences.json before sharing a set for it.")
