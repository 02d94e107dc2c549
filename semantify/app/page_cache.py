"""The page, its config and Gradio's static files, answered from memory.

Gradio builds the page's HTML, its config and its API description anew for every request (about
0.15 s of the interpreter each on a small CPU), and compresses each static file again for every
visitor, all under the one interpreter lock that every other request needs. What they answer
never changes while the server runs, so :class:`PageCache` keeps each answer, compressed once
per encoding, and a page load costs the server little however busy it is; a stranger fetching
the page in a loop no longer costs it a core.

An answer is kept only when it is a complete 200 without cookies. The page and config depend on
the address the visitor used (their links name it): that is part of the key, and their query
strings are not, except ``page`` and ``deep_link``, which are never kept.
"""

from __future__ import annotations

import collections
import dataclasses
import gzip
import threading
from urllib.parse import parse_qs

import brotli

from semantify import limits

PAGES = ("/", "/config", "/gradio_api/info")  # built per request, the same for everyone
STATIC = ("/assets/", "/static/")  # files that never change while the server runs
ROOT_HEADERS = (b"host", b"x-forwarded-host", b"x-forwarded-proto", b"x-gradio-server")
UNCACHED_QUERY = ("page", "deep_link")  # the page's answer depends on these: never kept
COMPRESSIBLE = (b"text/", b"application/javascript", b"application/json", b"image/svg+xml")
KEPT_HEADERS = (b"content-type", b"etag", b"last-modified", b"cache-control")
MIN_COMPRESSED = 400  # smaller answers go as they are


@dataclasses.dataclass(frozen=True)
class Answer:
    """A kept answer: its headers (without length or encoding) and its body per encoding."""

    headers: tuple[tuple[bytes, bytes], ...]
    bodies: dict[str, bytes]

    @property
    def size(self) -> int:
        return sum(len(body) for body in self.bodies.values())


def encoding_of(headers: dict[bytes, bytes]) -> str:
    """The encoding the client takes: "br", "gzip" or "identity"."""
    accepted = headers.get(b"accept-encoding", b"").decode("latin-1")
    return "br" if "br" in accepted else "gzip" if "gzip" in accepted else "identity"


def cache_key(scope) -> tuple | None:
    """What a GET's answer depends on, or None for a request that is not kept."""
    if scope["type"] != "http" or scope["method"] != "GET":
        return None
    path = scope["path"]
    if path in PAGES:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if any(name in query for name in UNCACHED_QUERY):
            return None
        headers = dict(scope["headers"])
        root = tuple(headers.get(name, b"") for name in ROOT_HEADERS)
        return path, scope.get("scheme"), scope.get("root_path", ""), root
    if path.startswith(STATIC) and ".." not in path:
        return (path,)
    return None


class PageCache:
    """ASGI middleware keeping the answers :func:`cache_key` names (see the module's text)."""

    def __init__(self, app, max_total: int = limits.PAGE_CACHE_BYTES):
        self.app, self.max_total = app, max_total
        self._answers: collections.OrderedDict[tuple, Answer] = collections.OrderedDict()
        self._lock = threading.Lock()
        self._total = 0

    async def __call__(self, scope, receive, send):
        key = cache_key(scope)
        if key is None:
            return await self.app(scope, receive, send)
        encoding = encoding_of(dict(scope["headers"]))
        with self._lock:
            answer = self._answers.get(key)
            if answer is not None:
                self._answers.move_to_end(key)
        if answer is None:
            answer = await self._fetch(scope, receive, send)
            if answer is None:
                return None  # answered as it came: not one to keep
            self._keep(key, answer)
        await self._send(answer, encoding, send)
        return None

    async def _fetch(self, scope, receive, send) -> Answer | None:
        """The inner app's answer as an Answer; or, when it is not one to keep, passed on to
        ``send`` as it comes (then None)."""
        start, chunks, size, passing = None, [], 0, False

        async def collect(message):
            nonlocal start, size, passing
            if passing:
                return await send(message)
            if message["type"] == "http.response.start":
                start = message
                headers = dict(message.get("headers", ()))
                if message["status"] != 200 or b"set-cookie" in headers or \
                        b"content-encoding" in headers:
                    passing = True
                    await send(message)
                return None
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > limits.PAGE_CACHE_ENTRY_BYTES:  # too large to keep
                passing = True
                await send(start)
                await send({"type": "http.response.body", "body": b"".join(chunks),
                            "more_body": message.get("more_body", False)})
            return None

        await self.app(scope, receive, collect)
        if passing or start is None:
            return None
        headers = tuple((name, value) for name, value in start.get("headers", ())
                        if name.lower() in KEPT_HEADERS)
        return Answer(headers, {"identity": b"".join(chunks)})

    def _keep(self, key: tuple, answer: Answer) -> None:
        with self._lock:
            old = self._answers.pop(key, None)
            self._total += answer.size - (old.size if old else 0)
            self._answers[key] = answer
            while self._total > self.max_total and self._answers:
                _, gone = self._answers.popitem(last=False)
                self._total -= gone.size

    async def _send(self, answer: Answer, encoding: str, send) -> None:
        body = self._body(answer, encoding)
        headers = list(answer.headers)
        if body is not answer.bodies["identity"]:
            headers.append((b"content-encoding", encoding.encode()))
        headers += [(b"content-length", str(len(body)).encode()), (b"vary", b"Accept-Encoding")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _body(self, answer: Answer, encoding: str) -> bytes:
        """The body in ``encoding``, compressed once and kept (small or binary: as it is)."""
        plain = answer.bodies["identity"]
        kind = dict(answer.headers).get(b"content-type", b"")
        if encoding == "identity" or len(plain) < MIN_COMPRESSED or \
                not kind.startswith(COMPRESSIBLE):
            return plain
        body = answer.bodies.get(encoding)
        if body is None:
            body = brotli.compress(plain, quality=5) if encoding == "br" else \
                gzip.compress(plain, compresslevel=6)
            with self._lock:
                answer.bodies[encoding] = body
                self._total += len(body)
        return body
