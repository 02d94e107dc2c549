"""Candidate descriptor vocabularies (JSON data, one file per model family) and user word lists.

A vocabulary file ``vocabularies/NAME.json`` holds ``family``, ``description``, ``descriptors``
(the candidate words) and ``antonyms`` (pairs of words that mean opposite things).
"""

from __future__ import annotations

import functools
import json
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from semantify import limits
from semantify.errors import SemantifyError
from semantify.files import check_file

VOCABULARY_DIR = Path(__file__).parent / "vocabularies"
WORD_LIST_SUFFIXES = (".txt", ".csv", ".lst", ".words")


def vocabulary_names() -> list[str]:
    """Names of the shipped vocabularies (one per model family), sorted."""
    return sorted(path.stem for path in VOCABULARY_DIR.glob("*.json"))


@functools.cache
def _load(name: str) -> dict:
    return json.loads((VOCABULARY_DIR / f"{name}.json").read_text(encoding="utf-8"))


def vocabulary(family: str) -> list[str]:
    """The candidate descriptors of one vocabulary (``body``, ``face``, ``expression``, ...)."""
    if family not in vocabulary_names():
        raise SemantifyError(f"no descriptor vocabulary for {family!r}; available: "
                             f"{', '.join(vocabulary_names())}, or pass your own words.")
    return list(_load(family)["descriptors"])


def descriptor_key(word: str) -> str:
    """The comparison key of a descriptor: NFC, case-folded, single-spaced."""
    return " ".join(unicodedata.normalize("NFC", word).casefold().split())


@functools.cache
def _antonym_keys() -> frozenset[frozenset[str]]:
    return frozenset(frozenset((descriptor_key(a), descriptor_key(b)))
                     for name in vocabulary_names() for a, b in _load(name)["antonyms"])


def are_antonyms(a: str, b: str) -> bool:
    """Whether two descriptors form an antonym pair in any shipped vocabulary."""
    return frozenset((descriptor_key(a), descriptor_key(b))) in _antonym_keys()


def parse_descriptors(source: str | Path | Iterable[str]) -> list[str]:
    """Descriptors from a list, a word-list file (one per line) or a comma-separated string.

    Each is NFC-normalised with runs of whitespace collapsed. In a file, blank lines and lines
    starting with ``#`` are skipped. Empty or duplicate descriptors (case-insensitive) are
    one-line errors.
    """
    if isinstance(source, Path):
        items, where = _read_word_list(source), f"file {source}"
    elif isinstance(source, str):
        path = Path(source)
        if path.is_file():
            items, where = _read_word_list(path), f"file {source}"
        elif "," not in source and source.lower().endswith(WORD_LIST_SUFFIXES):
            raise SemantifyError(f"word list {source} does not exist; pass an existing file "
                                 "(one descriptor per line) or comma-separated words.")
        else:
            items, where = source.split(","), "the list"
    else:
        items, where = list(source), "the list"
    words, seen = [], {}
    for position, item in enumerate(items, start=1):
        if not isinstance(item, str):
            raise SemantifyError(f"descriptor {position} in {where} is {item!r}, not text; "
                                 "pass words as strings.")
        word = " ".join(unicodedata.normalize("NFC", item).split())
        if not word:
            raise SemantifyError(f"descriptor {position} in {where} is empty; remove the stray "
                                 "comma or blank entry.")
        key = descriptor_key(word)
        if key in seen:
            raise SemantifyError(f"duplicate descriptor {word!r} in {where} (same as "
                                 f"{seen[key]!r}); list each descriptor once.")
        seen[key] = word
        words.append(word)
    if not words:
        raise SemantifyError(f"no descriptors in {where}; give at least one word.")
    return words


def _read_word_list(path: Path) -> list[str]:
    try:
        check_file(path, f"word list {path}", "pass a text file, one descriptor per line",
                   limits.MAX_WORD_LIST_BYTES, "list at most a few thousand descriptors")
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise SemantifyError(f"{path} is not UTF-8 text; save it as UTF-8, one descriptor "
                             "per line.") from None
    except OSError as error:
        raise SemantifyError(f"cannot read {path}: {error.strerror or error}.") from None
    return [line for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def resolve_candidates(spec: str | Path | Iterable[str]) -> list[str]:
    """A vocabulary name (``body``) gives that vocabulary; anything else is parsed as words.
    One word that is neither a vocabulary nor a file is taken for a mistyped vocabulary."""
    if isinstance(spec, str) and spec.strip() in vocabulary_names():
        return vocabulary(spec.strip())
    words = parse_descriptors(spec)
    if isinstance(spec, str) and len(words) == 1 and not Path(spec).is_file():
        raise SemantifyError(f"{spec.strip()[:40]!r} is not a vocabulary ("
                             f"{', '.join(vocabulary_names())}) or a word-list file; name one, "
                             "or give two or more comma-separated words.")
    return words
