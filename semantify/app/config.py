"""How the app is served: which slider set folders it offers, and whether strangers visit."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path


@dataclasses.dataclass(frozen=True)
class AppConfig:
    """``slider_dirs``: slider set folders (or ``hf://`` names) the operator offers besides the
    shipped and built ones. ``public``: strangers visit (a Hugging Face Space): jobs that train are limited and
    no server path is ever shown."""

    slider_dirs: tuple[str | Path, ...] = ()
    public: bool = False

    @classmethod
    def create(cls, slider_dirs: Sequence[str | Path] = (), public: bool | None = None):
        """A config; ``slider_dirs`` are folders or ``hf://OWNER/NAME`` names; ``public``
        defaults to on when running as a Hugging Face Space."""
        from semantify.hub import is_hub_path

        if public is None:
            public = bool(os.environ.get("SPACE_ID"))
        return cls(tuple(d if is_hub_path(d) else Path(d) for d in slider_dirs), bool(public))
