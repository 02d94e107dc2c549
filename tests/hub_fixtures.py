"""Hugging Face Hub stand-ins for tests: a cache folder in the real on-disk layout, and a local
HTTP server answering the few routes huggingface_hub calls to fetch a repository.

Neither replaces any huggingface_hub code: the library's own download, cache and error paths
run against them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

LFS = (".safetensors", ".png")  # stored with Git LFS (blob named by sha256), like on the Hub


def blob_id(path: str, data: bytes) -> str:
    """The name of a file's blob in the cache: sha256 for LFS files, git blob sha1 otherwise."""
    if path.endswith(LFS):
        return hashlib.sha256(data).hexdigest()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def commit_of(files: dict[str, bytes]) -> str:
    """A 40-hex commit id that depends on the files (stands in for a git commit)."""
    digest = hashlib.sha1()
    for path in sorted(files):
        digest.update(path.encode() + b"\0" + blob_id(path, files[path]).encode())
    return digest.hexdigest()


def folder_files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` as {posix path: bytes}."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def write_cached_repo(cache: Path, repo_id: str, files: dict[str, bytes],
                      refs: tuple[str, ...] = ("main",)) -> str:
    """Put ``files`` into the Hub cache ``cache`` as huggingface_hub lays it out:
    ``models--OWNER--NAME/blobs/ID``, ``snapshots/COMMIT/PATH`` (relative symlinks to the
    blobs) and ``refs/REF`` holding the commit id. Returns the commit id."""
    repo = Path(cache) / f"models--{repo_id.replace('/', '--')}"
    commit = commit_of(files)
    for path, data in files.items():
        blob = repo / "blobs" / blob_id(path, data)
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_bytes(data)
        link = repo / "snapshots" / commit / path
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    for ref in refs:
        (repo / "refs" / ref).parent.mkdir(parents=True, exist_ok=True)
        (repo / "refs" / ref).write_text(commit)
    return commit


@contextlib.contextmanager
def silent_server():
    """An endpoint URL whose server accepts connections and never answers (a stalled Hub)."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted = []

    def accept():
        with contextlib.suppress(OSError):
            while True:
                accepted.append(listener.accept()[0])

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()
        for connection in accepted:
            connection.close()


@dataclasses.dataclass
class Repo:
    files: dict[str, bytes]
    refs: dict[str, str]  # branch or tag -> commit
    sizes: dict[str, int] = dataclasses.field(default_factory=dict)  # sizes the Hub claims

    @property
    def commit(self) -> str:
        return self.refs["main"]


class FakeHub:
    """A Hub on ``http://127.0.0.1:PORT`` (set ``HF_ENDPOINT`` to :attr:`url`).

    Routes: model info (``/api/models/O/N[/revision/R]``), tree listing
    (``/api/models/O/N/tree/R``), file resolve (``/O/N/resolve/R/PATH``, HEAD and GET), and
    repository creation, which refuses every token (HTTP 401). Unknown repositories and
    revisions get the Hub's 404 answers with its ``X-Error-Code`` header.
    """

    def __init__(self):
        self.repos: dict[str, Repo] = {}
        self.requests: list[str] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_HEAD(self):
                hub._answer(self, body=False)

            def do_GET(self):
                hub._answer(self, body=True)

            def do_POST(self):
                hub.requests.append(f"POST {self.path}")
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                hub._send(self, 401, b'{"error": "Invalid credentials"}',
                          {"X-Error-Message": "Invalid credentials in Authorization header"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def add(self, repo_id: str, files: dict[str, bytes], tags: tuple[str, ...] = (),
            sizes: dict[str, int] | None = None) -> str:
        """Serve ``files``; ``sizes`` overrides the size the Hub reports for some of them."""
        commit = commit_of(files)
        self.repos[repo_id] = Repo(dict(files), {"main": commit, **{t: commit for t in tags}},
                                   dict(sizes or {}))
        return commit

    # -- routing -------------------------------------------------------------------------------

    def _answer(self, handler, body: bool) -> None:
        self.requests.append(f"{handler.command} {handler.path}")
        parts = [unquote(p) for p in urlsplit(handler.path).path.strip("/").split("/")]
        if parts[:2] == ["api", "models"] and len(parts) >= 4:
            repo_id, rest = "/".join(parts[2:4]), parts[4:]
            repo = self.repos.get(repo_id)
            if repo is None:
                return self._error(handler, "RepoNotFound", body)
            if not rest or rest[0] == "revision":
                return self._info(handler, repo_id, repo, rest[1] if rest else "main", body)
            if rest[0] == "tree":
                return self._tree(handler, repo, rest[1], body)
        if len(parts) >= 5 and parts[2] == "resolve":
            repo = self.repos.get("/".join(parts[:2]))
            if repo is None:
                return self._error(handler, "RepoNotFound", body)
            return self._file(handler, repo, parts[3], "/".join(parts[4:]), body)
        self._send(handler, 404, b"{}", {}, body)

    def _commit(self, repo: Repo, revision: str) -> str | None:
        if revision in repo.refs:
            return repo.refs[revision]
        return revision if revision in repo.refs.values() else None

    def _info(self, handler, repo_id, repo, revision, body) -> None:
        commit = self._commit(repo, revision)
        if commit is None:
            return self._error(handler, "RevisionNotFound", body)
        info = {"id": repo_id, "sha": commit, "private": False,
                "siblings": [{"rfilename": path, "size": repo.sizes.get(path, len(data))}
                             for path, data in sorted(repo.files.items())]}
        self._send(handler, 200, json.dumps(info).encode(), {}, body)

    def _tree(self, handler, repo, revision, body) -> None:
        commit = self._commit(repo, revision)
        if commit is None:
            return self._error(handler, "RevisionNotFound", body)
        entries = []
        for path, data in sorted(repo.files.items()):
            entry = {"type": "file", "path": path, "size": len(data), "oid": blob_id(path, data)}
            if path.endswith(LFS):
                entry["lfs"] = {"oid": blob_id(path, data), "size": len(data), "pointerSize": 134}
            entries.append(entry)
        self._send(handler, 200, json.dumps(entries).encode(), {}, body)

    def _file(self, handler, repo, revision, path, body) -> None:
        commit = self._commit(repo, revision)
        if commit is None:
            return self._error(handler, "RevisionNotFound", body)
        if path not in repo.files:
            return self._error(handler, "EntryNotFound", body, {"X-Repo-Commit": commit})
        data = repo.files[path]
        self._send(handler, 200, data, {"X-Repo-Commit": commit,
                                        "ETag": f'"{blob_id(path, data)}"'}, body)

    def _error(self, handler, code: str, body: bool, headers: dict | None = None) -> None:
        self._send(handler, 404, json.dumps({"error": code}).encode(),
                   {"X-Error-Code": code, **(headers or {})}, body)

    @staticmethod
    def _send(handler, status: int, data: bytes, headers: dict, body: bool = True) -> None:
        handler.send_response(status)
        for key, value in {"Content-Type": "application/octet-stream", **headers}.items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        if body:
            handler.wfile.write(data)
