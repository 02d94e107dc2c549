"""The app's files: one temporary folder per session under the cache root, named by the app.

Exports and animations go to ``sessions/TOKEN/`` where TOKEN is made by the server (never a
client value) and file names are the app's own (never a slider name or anything typed).
Folders are deleted once older than SESSION_MAX_AGE_SECONDS, and the oldest first while all
of them together exceed SESSIONS_MAX_BYTES; :func:`session_folder` cleans on every call.
"""

from __future__ import annotations

import secrets
import shutil
import threading
import time
from pathlib import Path

from semantify import limits
from semantify.paths import sessions_dir

_lock = threading.Lock()


def new_token() -> str:
    """A fresh session token: 32 hex characters from the OS's random source."""
    return secrets.token_hex(16)


def session_folder(token: str) -> Path:
    """The (created) scratch folder of session ``token``, after a clean-up of old folders."""
    if len(token) != 32 or any(c not in "0123456789abcdef" for c in token):
        raise ValueError("session tokens are made by new_token()")
    root = sessions_dir()
    with _lock:
        clean(root)
        folder = root / token
        folder.mkdir(parents=True, exist_ok=True)
        folder.touch()  # in use: its age counts from now
    return folder


def clean(root: Path, now: float | None = None) -> None:
    """Delete session folders older than the age cap, then the oldest while over the size cap."""
    if not root.is_dir():
        return
    now = time.time() if now is None else now
    folders = []
    for folder in root.iterdir():
        try:
            age = now - folder.stat().st_mtime
        except OSError:
            continue
        if age > limits.SESSION_MAX_AGE_SECONDS:
            shutil.rmtree(folder, ignore_errors=True)
        elif folder.is_dir():
            folders.append((folder.stat().st_mtime, folder, _size(folder)))
    total = sum(size for _, _, size in folders)
    for _, folder, size in sorted(folders):
        if total <= limits.SESSIONS_MAX_BYTES:
            break
        shutil.rmtree(folder, ignore_errors=True)
        total -= size


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
