"""The app's menu: the models and slider sets this server offers, each behind an opaque id.

Visitors choose among the entries the server lists; an id they send that is not listed is
refused, so no visitor can make the server open a path. Slider sets come from the folders
shipped in the repository (``sliders/``), those the operator passes (``semantify app
--sliders DIR``) and those built in the app (under the cache root). A set built in the app is
listed for the visitors who asked for it only (by visitor key, which outlives a page reload:
:mod:`semantify.app.visitors`), unless a visitor asks to see everyone's. Every available
model is also offered raw: its own coefficients as sliders.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from pathlib import Path

from semantify import limits
from semantify.app.config import AppConfig
from semantify.app.visitors import Visitors
from semantify.errors import SemantifyError
from semantify.models.reference import ModelRef
from semantify.paths import built_sets_dir

OWNER_FILE = ".owner"  # in a set built in the app: the keys of the visitors who asked for it


@dataclasses.dataclass(frozen=True)
class Entry:
    """One choice of the picker. ``folder`` stays on the server; pages see ``id`` and
    ``label`` only. ``owners`` are the visitor keys of a set built or loaded in the app
    (everyone who asked for it sees it), None for a set listed for everyone."""

    id: str
    label: str
    model_ref: ModelRef
    folder: Path | None = None
    owners: frozenset[str] | None = None
    name: str = ""  # a set's name: its folder's, or hf://OWNER/NAME
    words: bool = False  # it has word sliders (photos and text can drive it)

    @property
    def is_raw(self) -> bool:
        return self.folder is None


def shipped_dir() -> Path:
    """``sliders/`` at the repository root (the working folder when the package is installed
    elsewhere, as on a Space)."""
    beside = Path(__file__).resolve().parents[2] / "sliders"
    return beside if beside.is_dir() else Path.cwd() / "sliders"


def _name_of(source) -> str:
    return str(source) if str(source).startswith("hf://") else Path(source).name


def _building(folder: Path) -> bool:
    """Whether ``folder`` is a build still running (listed once its last stage is done)."""
    from semantify.recipes.settings import is_unfinished

    return is_unfinished(folder)


def _build_title(folder: Path) -> str | None:
    """The readable title of a set made by `semantify build` (e.g. ``Anny body: word
    sliders (quick)``), or None for other sets."""
    from semantify.recipes.settings import read_record

    try:
        record = read_record(folder)
    except SemantifyError:
        return None
    return record.title[:120] or None if record else None


def read_owners(folder: Path) -> frozenset[str] | None:
    """The visitor keys in ``folder``'s OWNER_FILE, or None (everyone's) without one."""
    path = Path(folder) / OWNER_FILE
    if not path.is_file():
        return None
    with path.open("rb") as file:  # bounded: a line a visitor key of at most 64 characters
        lines = file.read(limits.MAX_OWNERS * 66).decode("utf-8", "replace").splitlines()
    tokens = frozenset(line.strip()[:64] for line in lines[:limits.MAX_OWNERS] if line.strip())
    return tokens or None


def add_owner(folder: Path, key: str) -> None:
    """Let visitor ``key`` see the set in ``folder`` (beside those who asked before)."""
    from semantify.files import write_atomic

    owners = read_owners(folder) or frozenset()
    if key not in owners:
        text = "".join(f"{t}\n" for t in sorted(owners | {key})[-limits.MAX_OWNERS:])
        write_atomic(Path(folder) / OWNER_FILE, lambda tmp: Path(tmp).write_text(text))


def raw_id(model_id: str) -> str:
    """The id of the entry offering ``model_id``'s own coefficients as sliders."""
    return f"raw-{model_id}"


def set_id(folder: Path) -> str:
    return "set-" + hashlib.sha256(str(Path(folder).resolve()).encode()).hexdigest()[:12]


def _kind(slider_set) -> str:
    if slider_set.clip is None:
        return f"{len(slider_set.sliders)} measurement sliders"
    return f"{len(slider_set.sliders)} sliders, CLIP {slider_set.clip.label}"


def label_of(name: str, slider_set) -> str:
    """What the picker shows: ``anny-words — anny-body, 6 sliders, CLIP ViT-B-32/...``."""
    return f"{name} — {slider_set.model_id}, {_kind(slider_set)}"


class Catalog:
    """The entries of one app; thread-safe, refreshed when a set is built."""

    def __init__(self, config: AppConfig):
        self.config = config
        self._lock = threading.Lock()
        self._entries: dict[str, Entry] = {}
        self.notices: list[str] = []
        self.visitors = Visitors()  # whose page load each session token is
        self.refresh()

    def refresh(self) -> None:
        """Scan the folders again (a set built meanwhile appears, a deleted one goes)."""
        from semantify.models import model_ids, spec

        models = []
        for model_id in model_ids():
            model_spec = spec(model_id)
            if model_spec.missing_file() is None:
                models.append((model_id, model_spec.name))
        entries: dict[str, Entry] = {}
        notices = []
        for source in self._sources():
            try:
                entry = self._set_entry(source, {m for m, _ in models})
            except SemantifyError as error:
                notices.append(f"skipped slider set {_name_of(source)}: {error}")
                continue
            entries[entry.id] = entry
        for model_id, name in models:
            entries[raw_id(model_id)] = Entry(raw_id(model_id), f"{name} — raw coefficients",
                                              ModelRef(model_id))
        with self._lock:
            self._entries, self.notices = entries, notices

    def _sources(self) -> list[str | Path]:
        """Set folders (and ``hf://`` names) on offer: the operator's, shipped, built."""
        from semantify.sets.hub import is_hub_path

        found = [s if is_hub_path(s) else Path(s).resolve() for s in self.config.slider_dirs]
        for root in (shipped_dir(), built_sets_dir()):
            if root.is_dir():
                found += sorted(p.parent.resolve() for p in root.glob("*/sliders.json")
                                if not _building(p.parent))
        return list(dict.fromkeys(found))

    @staticmethod
    def _set_entry(source: str | Path, models: set[str], owner: str | None = None) -> Entry:
        """The entry of a set folder or ``hf://`` name (downloaded through the Hub cache)."""
        from semantify.app.runtime import load_set
        from semantify.sets.hub import is_hub_path, resolve_slider_set

        folder = resolve_slider_set(source)
        slider_set = load_set(folder)
        if is_hub_path(source):
            slider_set = slider_set.as_hub_set(source)
        if slider_set.model_id not in models:
            raise SemantifyError(f"its model {slider_set.model_id} is not available here.")
        owners = read_owners(folder) if owner is None else frozenset({owner})
        name = str(source).strip() if is_hub_path(source) else slider_set.name
        shown_name = name if is_hub_path(source) else _build_title(folder) or name
        return Entry(set_id(folder), label_of(shown_name, slider_set), slider_set.model_ref,
                     folder, owners, name, bool(slider_set.word_names))

    def add(self, source: str | Path, owner: str | None = None) -> Entry:
        """List the set just written to folder ``source``, or fetched as ``hf://`` name
        ``source``, for the visitor of session ``owner`` (None: everyone)."""
        from semantify.sets.hub import is_hub_path

        owner = None if owner is None else self.owner_of(owner)
        if owner is not None and not is_hub_path(source):
            with self._lock:
                listed = self._entries.get(set_id(source))
            if listed is not None and listed.owners is None:
                return listed  # a set listed for everyone (shipped, the operator's) stays so
            add_owner(Path(source), owner)
            owner = None  # every session that asked for it, from the folder's file
        models = {entry.model_ref.id for entry in self.entries() if entry.is_raw}
        entry = self._set_entry(source if is_hub_path(source) else Path(source).resolve(),
                                models, owner)
        if is_hub_path(source) and owner is not None:  # one visitor's: never another's entry
            entry = dataclasses.replace(entry, id="hub-" + hashlib.sha256(
                f"{entry.folder}\0{owner}".encode()).hexdigest()[:12])
        with self._lock:
            listed = self._entries.get(entry.id)
            if listed is not None and listed.owners is None and entry.owners is not None:
                return listed  # a set listed for everyone stays so
            self._entries[entry.id] = entry
        return entry

    def entries(self) -> list[Entry]:
        with self._lock:
            return list(self._entries.values())

    def owner_of(self, token: str) -> str:
        """Who owns what session ``token`` builds: its visitor's key (claimed on page load),
        else the token itself."""
        return self.visitors.key_of(token) or token

    def sees(self, token: str, entry: Entry, everyone: bool = False) -> bool:
        """Whether session ``token`` sees ``entry``: a shared one, its visitor's own build
        (of any page load with the same visitor key), or others' builds if asked."""
        return entry.owners is None or everyone or self.owner_of(token) in entry.owners

    def visible(self, token: str, everyone: bool = False) -> list[Entry]:
        """Entries session ``token`` sees (:meth:`sees`)."""
        return [e for e in self.entries() if self.sees(token, e, everyone)]

    def choices(self, token: str, everyone: bool = False) -> list[tuple[str, str]]:
        return [(entry.label, entry.id) for entry in self.visible(token, everyone)]

    def get(self, entry_id, token: str | None = None, everyone: bool = False) -> Entry:
        """The entry with ``entry_id`` (with a ``token``: only one that session sees), or a
        one-line error (never echoing the value)."""
        with self._lock:
            entry = self._entries.get(entry_id) if isinstance(entry_id, str) else None
        if entry is None or (token is not None and not self.sees(token, entry, everyone)):
            raise SemantifyError("unknown choice; pick a model or slider set from the list.")
        return entry

    def raw(self, model_id) -> Entry | None:
        """The entry of ``model_id``'s raw coefficients, or None when it is not offered."""
        with self._lock:
            return self._entries.get(raw_id(model_id)) if isinstance(model_id, str) else None

    def first(self, token: str) -> Entry | None:
        """The entry a new page opens: the first slider set, else the first model."""
        shown = self.visible(token)
        return next((e for e in shown if not e.is_raw), shown[0] if shown else None)

    def find_set(self, name: str, model_id: str, token: str) -> Entry | None:
        """A listed set called ``name`` for ``model_id`` (for loading params), if any."""
        return next((e for e in self.visible(token) if not e.is_raw and e.name == name
                     and e.model_ref.id == model_id), None)
