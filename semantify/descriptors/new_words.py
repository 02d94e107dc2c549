"""New slider words typed by users: parsed, checked and capped before any work is done."""

from __future__ import annotations

from collections.abc import Iterable

from semantify import limits
from semantify.errors import SemantifyError
from semantify.measurements.registry import looks_like_measurement


def parse_words(text: str, existing: Iterable[str] = ()) -> tuple[list[str], list[str]]:
    """New descriptor words from comma- or line-separated ``text``, and notes on what was
    skipped (too long, already a slider, repeated, beyond the cap). Linear in the text."""
    if not isinstance(text, str):
        raise SemantifyError("type the new words as text, separated by commas.")
    if len(text) > limits.MAX_TEXT_CHARS:
        raise SemantifyError(f"the words are {len(text)} characters long; type at most "
                             f"{limits.MAX_NEW_WORDS} words ({limits.MAX_TEXT_CHARS} characters).")
    taken = set(existing)
    words: list[str] = []
    notes: list[str] = []
    for raw in text.replace("\n", ",").split(","):
        word = " ".join(raw.split())
        if not word:
            continue
        if len(word) > limits.MAX_WORD_CHARS:
            notes.append(f"skipped a word longer than {limits.MAX_WORD_CHARS} characters.")
        elif looks_like_measurement(word):
            notes.append(f"skipped {word!r}: it is spelled like a measurement, not a word.")
        elif word in taken:
            notes.append(f"{word!r} is already a slider.")
        else:
            words.append(word)
            taken.add(word)
        if len(words) > limits.MAX_NEW_WORDS:
            break
    if len(words) > limits.MAX_NEW_WORDS:
        notes.append(f"only the first {limits.MAX_NEW_WORDS} new words are used.")
        words = words[: limits.MAX_NEW_WORDS]
    if not words:
        raise SemantifyError("type one or more new descriptor words, separated by commas "
                             "(e.g. curvy, lanky).")
    return words, notes
