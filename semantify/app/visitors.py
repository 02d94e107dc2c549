"""Who a page belongs to: a per-browser *visitor key*, so a public server's visitor finds the
sets they built (or loaded from the Hub) again after a reload.

The key is a random secret the server makes (:func:`new_key`); the browser keeps it in its
localStorage (``gr.BrowserState``, :data:`STORAGE_KEY`) and sends it back on every page load.
A value that is absent or not exactly a key's format (:data:`KEY`) is replaced by a fresh key
(:func:`checked`), so whatever a browser sends is compared, never used otherwise: it names no
folder (the session token, made per page load, names ``sessions/TOKEN/``) and it reaches no
log. :class:`Visitors` remembers which visitor each page load (session token) belongs to; the
catalog lists a built set for the visitor keys in its folder's ``.owner`` file.
"""

from __future__ import annotations

import collections
import dataclasses
import re
import secrets
import threading

from semantify import limits

KEY = re.compile(r"[0-9a-f]{32}")  # what new_key() makes, and nothing else
STORAGE_KEY = "semantify-visitor"  # the browser's localStorage entry
# Gradio obfuscates a BrowserState with a passphrase it sends to the page itself, so it hides
# nothing; a fixed one lets the key outlive a server restart (a random one would not decode).
STORAGE_SECRET = "semantify-visitor-key"


def new_key() -> str:
    """A fresh visitor key: 32 hex characters from the OS's random source."""
    return secrets.token_hex(16)


@dataclasses.dataclass(frozen=True)
class Checked:
    """The visitor key a page goes on with, and why: ``fresh`` when the server made it now,
    ``junk`` when the browser sent something that is not a key (it was dropped)."""

    key: str
    fresh: bool = False
    junk: bool = False

    def __post_init__(self):
        if not KEY.fullmatch(self.key):
            raise ValueError("visitor keys are made by new_key()")


def checked(sent) -> Checked:
    """The key a browser sent if it is exactly a key's format, else a fresh one (``sent`` is
    anything a client chose: None, a 10 kB string, a path, a number)."""
    if sent is None or sent == "":
        return Checked(new_key(), fresh=True)
    if isinstance(sent, str) and len(sent) == 32 and KEY.fullmatch(sent):
        return Checked(sent)
    return Checked(new_key(), fresh=True, junk=True)


class Visitors:
    """The visitor key of each page load (session token); thread-safe, the least recently
    opened forgotten beyond VISITORS_REMEMBERED (such a page lists only shared sets until it
    is reloaded)."""

    def __init__(self, cap: int = limits.VISITORS_REMEMBERED):
        self._lock = threading.Lock()
        self._keys: collections.OrderedDict[str, str] = collections.OrderedDict()
        self._cap = cap

    def claim(self, token: str, key: str) -> None:
        """Page load ``token`` belongs to visitor ``key`` (a checked key)."""
        Checked(key)  # only keys of the right format are ever remembered
        with self._lock:
            self._keys[token] = key
            self._keys.move_to_end(token)
            while len(self._keys) > self._cap:
                self._keys.popitem(last=False)

    def key_of(self, token: str) -> str | None:
        """The visitor key of page load ``token``, or None if it claimed none."""
        with self._lock:
            return self._keys.get(token) if isinstance(token, str) else None
