"""How the app is served: which slider set folders it offers, and whether strangers visit."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path


@dataclasses.dataclass(frozen=True)
class AppConfig:
    """``slider_dirs``: slider set folders (or ``hf://`` names) the operator offers besides the
    shipped and built ones. ``public``: strangers visit (a Hugging Face Space): jobs that
    train are limited and no server path is ever shown."""

    slider_dirs: tuple[str | Path, ...] = ()
    public: bool = False
    # First builds (semantify.app.first_build): recipes to build at start-up, and the CLIP,
    # sample count and --quick they run with (None: the recipe's).
    build_on_start: tuple[str, ...] = ()
    build_clip: str | None = None
    build_samples: int | None = None
    build_quick: bool = False

    @classmethod
    def create(cls, slider_dirs: Sequence[str | Path] = (), public: bool | None = None):
        """A config; ``slider_dirs`` are folders or ``hf://OWNER/NAME`` names; ``public``
        defaults to on when running as a Hugging Face Space. The first builds read
        ``SEMANTIFY_BUILD_ON_START`` (recipe names, comma-separated: built when the server
        starts, e.g. on a Space), ``SEMANTIFY_BUILD_CLIP`` (e.g. tiny-random for tests),
        ``SEMANTIFY_BUILD_SAMPLES`` and ``SEMANTIFY_BUILD_QUICK=1``."""
        from semantify.errors import SemantifyError
        from semantify.recipes import check_samples, load_recipe
        from semantify.sets.hub import is_hub_path

        if public is None:
            public = bool(os.environ.get("SPACE_ID"))
        on_start = tuple(name.strip() for name in
                         os.environ.get("SEMANTIFY_BUILD_ON_START", "").split(",") if name.strip())
        for name in on_start:
            load_recipe(name)  # an unknown name: one line listing the recipes
        samples = os.environ.get("SEMANTIFY_BUILD_SAMPLES") or None
        if samples is not None:
            try:
                samples = check_samples(int(samples), "SEMANTIFY_BUILD_SAMPLES")
            except ValueError:
                raise SemantifyError("SEMANTIFY_BUILD_SAMPLES must be a whole number.") from None
        return cls(tuple(d if is_hub_path(d) else Path(d) for d in slider_dirs), bool(public),
                   on_start,
                   os.environ.get("SEMANTIFY_BUILD_CLIP") or None, samples,
                   os.environ.get("SEMANTIFY_BUILD_QUICK", "") not in ("", "0"))
