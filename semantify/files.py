"""Reading and writing files safely: atomic writes, atomic folder swaps, bounded JSON reads.

A file is written to a temporary name in its folder and renamed over the target, so readers
never see half a file and a kill leaves either the old file or the new one. A folder (a slider
set) is built beside its target and exchanged with it in one ``renameat2(RENAME_EXCHANGE)``
where the kernel has it (Linux), so there is no moment without a complete set. Files and
folders get the permissions ``open`` and ``mkdir`` would give them (0666 and 0777 less the
umask), not ``mkstemp``'s private 0600.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import json
import os
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path

from semantify import limits
from semantify.errors import SemantifyError

RENAME_EXCHANGE = 2
AT_FDCWD = -100
NO_ROOM = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)  # full disk, quota, file size limit


def write_atomic(path: Path | str, write: Callable[[str], object],
                 suffix: str = ".tmp") -> None:
    """Call ``write(tmp_path)`` then rename onto ``path``: readers never see half a file.
    ``suffix`` ends the temporary name (for writers that pick a format by extension)."""
    from safetensors import SafetensorError

    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = new_file_beside(path, suffix)
        mode = os.stat(tmp).st_mode & 0o777
        write(tmp)
        if os.stat(tmp).st_mode & 0o777 != mode:  # a writer that made its own file (0600)
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except (OSError, SafetensorError) as error:  # safetensors reports I/O errors its own way
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise SemantifyError(f"cannot write {path}: {write_failure(error)}.") from None
    except BaseException:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise


def new_file_beside(path: Path, suffix: str) -> str:
    """A new empty file named like ``.NAME.XXXXXXXX{suffix}`` in ``path``'s folder, created
    with mode 0666 less the umask (as ``open`` would make ``path``; ``mkstemp`` makes 0600)."""
    while True:
        tmp = str(path.parent / f".{path.name}.{secrets.token_hex(4)}{suffix}")
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return tmp
        except FileExistsError:
            continue


def write_failure(error: BaseException) -> str:
    """Why a write failed, with the fix: more room for a full disk, another path otherwise."""
    reason = getattr(error, "strerror", None) or str(error)
    if getattr(error, "errno", None) in NO_ROOM or any(
            os.strerror(code) in reason for code in NO_ROOM):  # safetensors: no errno
        return f"{reason}; free some disk space or choose another path"
    return f"{reason}; choose a path in a folder you can write to"


def write_json_atomic(path: Path | str, data) -> None:
    """Write ``data`` as indented JSON to ``path`` through a temporary file and a rename."""
    text = json.dumps(data, indent=2, allow_nan=False) + "\n"
    write_atomic(path, lambda tmp: Path(tmp).write_text(text))


def read_json(path: Path | str, what: str, fix: str) -> object:
    """The JSON value in ``path`` (at most MAX_JSON_BYTES, nested at most MAX_JSON_DEPTH), or a
    one-line error: "cannot read WHAT (reason); FIX." NaN and infinities are refused."""
    path = Path(path)
    try:
        check_file(path, what, fix, limits.MAX_JSON_BYTES, fix)
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or type(error).__name__
        raise SemantifyError(f"cannot read {what} ({reason}); {fix}.") from None
    return parse_json(text, what, fix)


def check_file(path: Path | str, what: str, fix: str, max_bytes: int, smaller: str) -> None:
    """One line unless ``path`` is a regular file of at most ``max_bytes`` (checked before a
    stranger's file is read: a device or a pipe could be read for ever): "WHAT does not exist
    or is not a file; FIX." or "WHAT is larger than N MB; SMALLER."."""
    path = Path(path)
    if not path.is_file():
        raise SemantifyError(f"{what} does not exist or is not a file; {fix}.")
    if path.stat().st_size > max_bytes:
        raise SemantifyError(f"{what} is larger than {max_bytes // 1_000_000} MB; {smaller}.")


def read_json_or_none(path: Path | str) -> object:
    """The JSON value in ``path`` under :func:`read_json`'s limits, or None where it has none
    to give (missing, not a regular file, too large or deep, not JSON): for optional files of
    a folder that may come from a stranger (a set's evaluation, metrics and selection)."""
    try:
        return read_json(path, "file", "skipped")
    except SemantifyError:
        return None


def check_format(data, fmt: str, version: int, what: str, fix: str) -> dict:
    """``data`` when it is a JSON object of format ``fmt`` at ``version``; otherwise one line
    naming ``what`` and the ``fix``."""
    if not isinstance(data, dict) or data.get("format") != fmt:
        raise SemantifyError(f"{what} is not a {fmt} file; {fix}")
    if data.get("version") != version:
        raise SemantifyError(f"{what} is {fmt} version {data.get('version')!r}, and this "
                             f"Semantify reads version {version}; {fix}")
    return data


def parse_json(text: str, what: str, fix: str) -> object:
    """``text`` parsed as JSON with the limits of :func:`read_json`."""
    if json_depth(text) > limits.MAX_JSON_DEPTH:
        raise SemantifyError(f"{what} is nested more than {limits.MAX_JSON_DEPTH} levels deep; "
                             f"{fix}.")

    def refuse(constant):
        raise ValueError(f"{constant} is not a number JSON allows")

    try:
        return json.loads(text, parse_constant=refuse)
    except (ValueError, RecursionError) as error:
        reason = str(error).split("\n")[0][:120]
        raise SemantifyError(f"cannot read {what} ({reason}); {fix}.") from None


def json_depth(text: str) -> int:
    """The deepest nesting of brackets in JSON ``text`` outside strings (linear time)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def swap_folder(built: Path, target: Path) -> None:
    """Put the complete folder ``built`` at ``target`` in one atomic step, then delete what
    ``target`` held. ``built`` must sit in ``target``'s parent folder."""
    built, target = Path(built), Path(target)
    if not target.exists():
        os.rename(built, target)
        return
    if _exchange(built, target):
        shutil.rmtree(built, ignore_errors=True)  # ``built`` now holds the old contents
        return
    old = target.with_name(f".{target.name}.old-{os.getpid()}")  # no renameat2: two renames
    os.rename(target, old)
    os.rename(built, target)
    shutil.rmtree(old, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange paths ``a`` and ``b`` (Linux renameat2); False where unsupported."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE)
    return result == 0


def new_folder_beside(target: Path) -> Path:
    """An empty hidden folder in ``target``'s parent, to build a replacement for ``target``."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    while True:  # not mkdtemp, whose 0700 would stay on the folder once it is swapped in
        folder = target.parent / f".{target.name}.new-{secrets.token_hex(4)}"
        try:
            folder.mkdir(0o777)
            return folder
        except FileExistsError:
            continue
