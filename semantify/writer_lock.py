"""One writer per folder: a lock file that names its owner, released by the kernel when the
owner dies, so a stale lock is simply taken over.

``FOLDER/writer.lock`` holds the owner's pid, host and start time (JSON), and the owner holds
an exclusive ``flock`` on it while it writes. A second writer finds the lock held and is
refused with one line naming the owner. A lock file whose owner is gone (killed, machine
rebooted) holds no ``flock``: the next writer takes it over and says so. On file systems
without locks the pid decides: a live pid on this host, or any pid on another host, holds it.

Only one process of a distributed run takes the lock (global rank 0, see :func:`is_rank_zero`):
the other ranks write only the shards they own, under their rank 0's lock.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from semantify.errors import SemantifyError

LOCK_NAME = "writer.lock"
# Environment variables that carry a process's rank: torchrun (RANK, LOCAL_RANK), SLURM
# (SLURM_PROCID) and the processes Lightning relaunches for extra devices/nodes.
RANK_VARIABLES = ("RANK", "SLURM_PROCID", "LOCAL_RANK", "NODE_RANK")
_NO_LOCKS = (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS)


class FolderBusy(SemantifyError):
    """Another live writer holds the folder's lock: try again later. A command that meets it
    exits with :attr:`EXIT_CODE` (not 2), so a caller (the app's build queue) tells "wait"
    from "failed" by the exit status, never by the wording."""

    EXIT_CODE = 75  # EX_TEMPFAIL (sysexits.h): a temporary failure, retrying may work


@dataclasses.dataclass(frozen=True)
class LockOwner:
    """Who holds a folder's lock."""

    pid: int
    host: str
    started: float
    command: str = ""

    @classmethod
    def me(cls, command: str) -> LockOwner:
        return cls(os.getpid(), socket.gethostname(), time.time(), command)

    @classmethod
    def read(cls, path: Path) -> LockOwner | None:
        """The owner recorded in ``path``; None when it is missing, empty or unreadable."""
        try:
            record = json.loads(Path(path).read_text())
            return cls(int(record["pid"]), str(record["host"]), float(record["started"]),
                       str(record.get("command", "")))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def describe(self) -> str:
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.started))
        return f"pid {self.pid} on {self.host}, since {since}"

    def alive(self) -> bool | None:
        """Whether the owner still runs (None: on another host, which cannot be asked)."""
        if self.host != socket.gethostname():
            return None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # another user's live process
            return True
        return True


def is_rank_zero() -> bool:
    """Whether this process is global rank 0 of its run (or not part of a distributed run)."""
    return all(os.environ.get(name, "0") == "0" for name in RANK_VARIABLES)


@contextlib.contextmanager
def writer_lock(folder: Path | str, command: str = "semantify generate",
                flag: str = "--out") -> Iterator[Path]:
    """Hold ``folder``'s writer lock for the ``with`` block (created with the folder).

    Raises a one-line SemantifyError naming the owner when another live process holds it.
    ``command`` and ``flag`` name the writer and its folder option in that message.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    fd = _acquire(path, command, flag)
    try:
        yield path
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
        os.close(fd)  # releases the flock


def _acquire(path: Path, command: str, flag: str) -> int:
    """An open descriptor of ``path`` holding its lock, with our owner record written."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if _lock(fd, path, command, flag):
                _claim(fd, path, command)
                return fd
        except Exception:
            os.close(fd)
            raise
        os.close(fd)


def _lock(fd: int, path: Path, command: str, flag: str) -> bool:
    """Lock the file open as ``fd``; False if the path no longer names that file (its last
    owner removed it between our open and our lock: start again)."""
    locked = _flock(fd)
    if locked is False:
        raise _refusal(path, LockOwner.read(path), command, flag)
    if locked is None:  # no flock here: the recorded pid decides
        owner = LockOwner.read(path)
        if owner is not None and owner.pid != os.getpid() and owner.alive() is not False:
            raise _refusal(path, owner, command, flag)
    try:
        return os.fstat(fd).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        return False


def _claim(fd: int, path: Path, command: str) -> None:
    """Write our owner record, noting a stale owner we replace."""
    previous = LockOwner.read(path)
    if previous is not None and previous.pid != os.getpid():
        print(f"semantify: note: took over the lock of {path.parent} from a writer that is "
              f"gone ({previous.describe()}).", file=sys.stderr)
    record = dataclasses.asdict(LockOwner.me(command))
    os.ftruncate(fd, 0)
    os.pwrite(fd, (json.dumps(record) + "\n").encode(), 0)


def _flock(fd: int) -> bool | None:
    """Take an exclusive non-blocking flock: True if taken, False if held elsewhere, None
    where the file system has no locks (or the platform no flock)."""
    try:
        import fcntl
    except ImportError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError as error:
        if error.errno in _NO_LOCKS:
            return None
        raise
    return True


def _refusal(path: Path, owner: LockOwner | None, command: str, flag: str) -> FolderBusy:
    who = owner.describe() if owner is not None else "a process that is starting"
    where = "" if owner is None or owner.host == socket.gethostname() else (
        f"; if that run is dead, delete {path}")
    return FolderBusy(f"{path.parent} is being written by another {command} ({who}); wait "
                          f"for it to finish or stop it, or choose another {flag}{where}.")
