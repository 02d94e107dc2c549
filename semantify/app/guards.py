"""What one request may cost before Gradio sees it (ASGI middlewares on the app), and Gradio's
own file cache kept inside our cache root.

- :class:`UploadBudget`: Gradio checks each file against ``max_file_size`` but neither how
  many files one request carries nor how much one visitor stores; this refuses a request body
  over MAX_UPLOAD_REQUEST_BYTES (413) and an address over MAX_UPLOAD_BYTES_PER_HOUR (429),
  before anything is stored, and sweeps Gradio's cache under the sessions' age and size caps.
- :class:`HideCacheFolder`: answers name Gradio's cache relative to the working folder.
"""

from __future__ import annotations

import collections
import os
import threading
import time
from pathlib import Path

from semantify import limits
from semantify.app.admission import address_of

UPLOAD_ROUTES = ("/upload", "/component_server", "/component_server/")
WINDOW = 3600.0  # seconds over which an address's bytes count
CLEAN_EVERY = 10.0  # seconds between sweeps of Gradio's cache


def gradio_cache() -> str:
    """Where Gradio keeps uploads and file outputs: ``gradio/`` under our cache root, written
    relative to the working folder when it lies inside it, so that the paths Gradio sends to
    pages (upload answers, file outputs) never name the server's own folders."""
    from semantify.paths import cache_root

    folder = (cache_root() / "gradio").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    here = Path.cwd().resolve()
    return os.path.relpath(folder, here) if folder.is_relative_to(here) else str(folder)


class _TooLarge(Exception):
    pass


class _Spent:
    """An address's bytes over the last WINDOW seconds: one-second buckets ([start, bytes])
    and their running total, so that a page posting frames all hour keeps at most WINDOW
    buckets and each request's check costs the same however many came before."""

    __slots__ = ("buckets", "total")

    def __init__(self):
        self.buckets: collections.deque[list] = collections.deque()
        self.total = 0


class UploadBudget:
    """ASGI middleware: byte budgets for uploads, per request and per address."""

    def __init__(self, app, per_request: int = limits.MAX_UPLOAD_REQUEST_BYTES,
                 per_address: int = limits.MAX_UPLOAD_BYTES_PER_HOUR):
        self.app, self.per_request, self.per_address = app, per_request, per_address
        self._spent: dict[str, _Spent] = {}
        self._lock = threading.Lock()
        self._swept = 0.0

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method") != "POST" or not str(
                scope.get("path", "")).endswith(UPLOAD_ROUTES):
            return await self.app(scope, receive, send)
        from starlette.requests import Request

        address = address_of(Request(scope))
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        try:
            declared = int(declared) if declared is not None else 0
        except ValueError:
            declared = self.per_request + 1
        if declared > self.per_request:
            return await refuse(send, 413, self._too_large())
        if self._left(address) < max(declared, 1):
            return await refuse(send, 429, "you uploaded a lot in the last hour; try again "
                                            "later.")
        counted = 0

        async def counting():
            nonlocal counted
            message = await receive()
            if message["type"] == "http.request":
                counted += len(message.get("body", b""))
                if counted > self.per_request or counted > self._left(address):
                    raise _TooLarge()
            return message

        try:
            await self.app(scope, counting, send)
        except _TooLarge:
            return await refuse(send, 413, self._too_large())
        finally:
            self._spend(address, counted)
            self._sweep()

    def _too_large(self) -> str:
        return (f"uploads are at most {self.per_request // 1_000_000} MB a request; send "
                f"fewer or smaller photos.")

    def _left(self, address: str) -> int:
        now = time.monotonic()
        with self._lock:
            spent = self._spent.get(address)
            if spent is None:
                return self.per_address
            while spent.buckets and now - spent.buckets[0][0] > WINDOW:
                spent.total -= spent.buckets.popleft()[1]
            if not spent.buckets:  # an address without uploads in the window is not kept
                del self._spent[address]
            return self.per_address - spent.total

    def _spend(self, address: str, size: int) -> None:
        if size:
            now = time.monotonic()
            with self._lock:
                spent = self._spent.setdefault(address, _Spent())
                if spent.buckets and now - spent.buckets[-1][0] < 1.0:
                    spent.buckets[-1][1] += size
                else:
                    spent.buckets.append([now, size])
                spent.total += size

    def _sweep(self) -> None:
        """Gradio's cache under the sessions' caps (age, bytes), at most every CLEAN_EVERY s."""
        from semantify.app.scratch import clean

        now = time.monotonic()
        with self._lock:
            if now - self._swept < CLEAN_EVERY:
                return
            self._swept = now
        folder = os.environ.get("GRADIO_TEMP_DIR")
        if folder:
            threading.Thread(target=clean, args=(Path(folder),), daemon=True).start()


class HideCacheFolder:
    """ASGI middleware: Gradio writes the absolute path of its cache into its answers (upload
    answers, file outputs and their URLs); where that cache lies inside the working folder,
    the answers name it relative to it instead, which Gradio resolves back when a page sends
    it, so no answer names a folder of the server."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        relative = os.environ.get("GRADIO_TEMP_DIR", "")
        if scope["type"] != "http" or not relative or os.path.isabs(relative):
            return await self.app(scope, receive, send)
        absolute = (str(Path(relative).resolve()) + "/").encode()
        shown = (relative.rstrip("/") + "/").encode()

        async def sending(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", ())
                           if k.lower() != b"content-length"]  # the length changes
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body" and absolute in message.get(
                    "body", b""):
                message = {**message, "body": message["body"].replace(absolute, shown)}
            await send(message)

        await self.app(scope, receive, sending)


async def refuse(send, status: int, line: str) -> None:
    """Answer ``status`` with one plain-text line, and close."""
    body = line.encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
