"""The app's menu: every available model, with the slider sets found for it.

Slider sets come from three places: the folders shipped in the repository (``sliders/``),
folders given on the command line (``semantify app --sliders DIR``), and sets built in the app
(``$SEMANTIFY_CACHE_DIR/sliders``). A model with no slider set opens in raw mode: its own
coefficients as sliders.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path

from semantify.errors import SemantifyError

RAW = "raw:"
SETS = "sliders:"
MARKER = "sliders.json"  # file that marks a folder as a slider set


@dataclasses.dataclass(frozen=True)
class Entry:
    """One choice of the model picker: a model, and a slider set folder or None (raw mode)."""

    model_id: str
    label: str
    sliders: str | None = None

    @property
    def key(self) -> str:
        return f"{SETS}{self.sliders}" if self.sliders else f"{RAW}{self.model_id}"


def shipped_dir() -> Path:
    """``sliders/`` at the repository root."""
    return Path(__file__).resolve().parents[2] / "sliders"


def built_dir() -> Path:
    """Where slider sets built in the app are saved."""
    cache = os.environ.get("SEMANTIFY_CACHE_DIR") or "~/.cache/semantify"
    return Path(cache).expanduser() / "sliders"


def slider_dirs(extra: Sequence[str | Path] = ()) -> list[Path]:
    """Slider set folders: each of ``extra``, and every set under the shipped and built roots."""
    found = [Path(d) for d in extra]
    for root in (shipped_dir(), built_dir()):
        if root.is_dir():
            found += sorted(p.parent for p in root.glob(f"*/{MARKER}"))
    unique: dict[Path, None] = {}
    for folder in found:
        unique.setdefault(folder.resolve(), None)
    return list(unique)


def available_models() -> list[tuple[str, str]]:
    """(id, name) of every registered model whose files are present (none is loaded)."""
    from semantify.models import model_ids, spec

    rows = []
    for model_id in model_ids():
        model_spec = spec(model_id)
        if model_spec.licensed_file is None or model_spec.licensed_file().is_file():
            rows.append((model_id, model_spec.name))
    return rows


def entries(extra: Sequence[str | Path] = ()) -> tuple[list[Entry], list[str]]:
    """Picker entries (slider sets first, then raw mode per model) and notices for bad folders."""
    from semantify.app.resources import slider_set

    models = dict(available_models())
    sets: dict[str, list[Entry]] = {model_id: [] for model_id in models}
    notices = []
    for folder in slider_dirs(extra):
        try:
            loaded = slider_set(str(folder))
        except SemantifyError as error:
            notices.append(f"skipped slider set {folder}: {error}")
            continue
        if loaded.model_id not in models:
            notices.append(f"skipped slider set {folder}: its model {loaded.model_id} is not "
                           "available here.")
            continue
        sets[loaded.model_id].append(Entry(loaded.model_id, _set_label(loaded, folder),
                                           str(folder)))
    rows = [entry for model_id in models for entry in sets[model_id]]
    rows += [Entry(model_id, f"{name}: raw coefficients") for model_id, name in models.items()]
    return rows, notices


def _set_label(loaded, folder: Path) -> str:
    from semantify.clip import ClipSpec

    kind = "metric only"
    if loaded.clip is not None:
        spec = ClipSpec.from_dict(loaded.clip)
        kind = spec.label if not spec.is_semantic else f"CLIP {spec.label}"
    return f"{loaded.model_id}: {folder.name} ({len(loaded.sliders)} sliders, {kind})"


def entry_for(key: str) -> Entry:
    """The entry a picker key names: ``raw:MODEL`` or ``sliders:FOLDER``."""
    if key.startswith(RAW):
        model_id = key[len(RAW):]
        return Entry(model_id, f"{model_id}: raw coefficients")
    if key.startswith(SETS):
        from semantify.app.resources import slider_set

        folder = key[len(SETS):]
        return Entry(slider_set(folder).model_id, Path(folder).name, folder)
    raise SemantifyError(f"unknown choice {key!r}; pick a model from the list.")
