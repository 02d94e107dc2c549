"""Slider sets on the Hugging Face Hub: ``hf://OWNER/NAME[@REVISION]`` to a local folder, and
a set folder to a Hub repository with its model card.

Downloads go through huggingface_hub's cache (``HF_HUB_CACHE``, or ``HF_HOME``/hub), so a set
used once opens offline afterwards, also with ``HF_HUB_OFFLINE=1``. Only JSON, safetensors,
Markdown and PNG files are fetched or pushed (:data:`ALLOW_PATTERNS`): never code, never
pickles. The Hub is asked with a short timeout (``HF_HUB_ETAG_TIMEOUT``, 10 s by default);
when it cannot be reached, the cached copy is used, or the error says what to do. The set's
own checks (the sha256 in ``sliders.json``, its fields) are :meth:`SliderSet.load`'s; this
module checks that each cached file still matches the hash it is stored under.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
import os
import re
from pathlib import Path

from semantify import limits
from semantify.errors import SemantifyError

PREFIX = "hf://"
ALLOW_PATTERNS = ("*.json", "*.safetensors", "*.md", "*.png")
SLIDERS_JSON = "sliders.json"
CARD = "README.md"
_REF = re.compile(r"hf://([^/@\s]+)/([^/@\s]+)(?:@(\S+))?")
# A branch or tag name as git allows it (refs/pr/N included), or a 40-hex commit: never a path.
_REVISION = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9._-]|/(?![/.]))*")
MAX_REVISION_CHARS = 200
# A repository's page as the browser shows it: https://huggingface.co/OWNER/NAME[/tree/REV].
_PAGE = re.compile(r"https?://(?:www\.)?huggingface\.co/([^/@\s?#]+)/([^/@\s?#]+)"
                   r"(?:/tree/([^/\s?#]+))?/?")
_HASH_CHUNK = 1 << 20


@dataclasses.dataclass(frozen=True)
class HubRef:
    """A slider set on the Hub: repository ``OWNER/NAME`` at ``revision`` (None: main)."""

    repo_id: str
    revision: str | None = None

    @classmethod
    def parse(cls, text: str) -> HubRef:
        """``hf://OWNER/NAME`` or ``hf://OWNER/NAME@REVISION`` (a branch, tag or commit), or
        the repository's page ``https://huggingface.co/OWNER/NAME[/tree/REVISION]``, in the
        Hub's own grammar (huggingface_hub's ``validate_repo_id``); a revision is never a path:
        no leading ``/``, ``..``, ``\\``, ``%`` or control characters."""
        from huggingface_hub.utils import HFValidationError, validate_repo_id

        text = _from_page_url(str(text).strip())
        match = _REF.fullmatch(text)
        problem = None if match else "it is not of that form"
        if match:
            owner, name, revision = match.groups()
            try:
                validate_repo_id(f"{owner}/{name}")
            except HFValidationError:
                problem = ("OWNER and NAME use letters, digits, '-', '_' and '.', and neither "
                           "starts or ends with '-' or '.'")
            if revision is not None and not _is_revision(revision):
                problem = "a revision is a branch, tag or commit name, never a path"
        if problem:
            raise SemantifyError(f"cannot read Hub path ({problem}); write hf://OWNER/NAME, "
                                 "hf://OWNER/NAME@REVISION (a branch, tag or commit) or the "
                                 "page's address https://huggingface.co/OWNER/NAME.")
        return cls(f"{owner}/{name}", revision)

    def __str__(self) -> str:
        return PREFIX + self.repo_id + (f"@{self.revision}" if self.revision else "")

    @property
    def url(self) -> str:
        """The repository's page on the Hub (``HF_ENDPOINT`` respected)."""
        from huggingface_hub import constants

        return f"{constants.ENDPOINT}/{self.repo_id}"


def _from_page_url(text: str) -> str:
    """``text``, or ``hf://OWNER/NAME[@REVISION]`` when it is the address of a repository's
    page on the Hub (as copied from the browser)."""
    page = _PAGE.fullmatch(text)
    if page is None:
        return text
    owner, name, revision = page.groups()
    return f"{PREFIX}{owner}/{name}" + (f"@{revision}" if revision else "")


def _is_revision(revision: str) -> bool:
    """Whether ``revision`` is a git branch or tag name (or a commit): see :data:`_REVISION`."""
    return (len(revision) <= MAX_REVISION_CHARS and _REVISION.fullmatch(revision) is not None
            and ".." not in revision and not revision.endswith((".", "/", ".lock")))


def is_hub_path(source) -> bool:
    """Whether ``source`` names a set on the Hub (``hf://...``) rather than a local folder."""
    return isinstance(source, str) and source.strip().startswith(PREFIX)


def resolve_slider_set(source: str | os.PathLike) -> Path:
    """The local folder of the slider set ``source``.

    A plain path comes back unchanged (as a Path). ``hf://OWNER/NAME[@REVISION]`` is found in
    the Hugging Face cache or downloaded into it (JSON, safetensors, Markdown and PNG only);
    a repository without ``sliders.json``, a damaged cached copy, a name or revision the Hub
    does not have, and a set that is neither reachable nor cached are one-line errors.
    """
    if not is_hub_path(source):
        return Path(source)
    ref = HubRef.parse(source)
    folder = _snapshot(ref)
    check_cached_files(folder, ref)
    if not (folder / SLIDERS_JSON).is_file():
        raise _not_a_set(ref)
    return folder


def _not_a_set(ref: HubRef) -> SemantifyError:
    return SemantifyError(f"{ref} is not a Semantify slider set (no {SLIDERS_JSON} at its top "
                          "level); pass a repository uploaded with `semantify push`.")


def _timeout() -> float:
    from huggingface_hub import constants

    return float(constants.HF_HUB_ETAG_TIMEOUT)


def _snapshot(ref: HubRef) -> Path:
    """The cached snapshot folder of ``ref``, downloaded first when the Hub is reachable."""
    from huggingface_hub import constants, snapshot_download
    from huggingface_hub.errors import (HfHubHTTPError, LocalEntryNotFoundError,
                                        RepositoryNotFoundError, RevisionNotFoundError)

    unreachable = "HF_HUB_OFFLINE is set" if constants.HF_HUB_OFFLINE else _ask_hub(ref)
    try:
        folder = snapshot_download(ref.repo_id, revision=ref.revision,
                                   allow_patterns=list(ALLOW_PATTERNS),
                                   local_files_only=unreachable is not None,
                                   etag_timeout=_timeout())
    except LocalEntryNotFoundError:
        if constants.HF_HUB_OFFLINE:
            raise SemantifyError(
                f"{ref} is not in the local Hugging Face cache ({constants.HF_HUB_CACHE}) and "
                "HF_HUB_OFFLINE is set; load it once online (unset HF_HUB_OFFLINE), or point "
                "HF_HOME at a cache that holds it.") from None
        raise SemantifyError(
            f"cannot reach the Hugging Face Hub for {ref} ({unreachable}) and it is not in the "
            f"local cache ({constants.HF_HUB_CACHE}); check the network (or HF_ENDPOINT), or "
            "load it once where the Hub is reachable.") from None
    except (RepositoryNotFoundError, RevisionNotFoundError) as error:
        raise _hub_error(ref, error) from None
    except HfHubHTTPError as error:
        raise _hub_error(ref, error) from None
    except Exception as error:  # noqa: BLE001 - a network failure mid-download, of any type
        raise SemantifyError(f"downloading {ref} failed ({_first_line(error)}); run the same "
                             "command again to resume.") from None
    return Path(folder)


def _ask_hub(ref: HubRef) -> str | None:
    """None when the Hub knows ``ref`` (and it holds a slider set); why it could not be asked,
    when it could not be reached; a one-line error when it answers no."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import (HfHubHTTPError, RepositoryNotFoundError,
                                        RevisionNotFoundError)

    try:
        info = HfApi().repo_info(ref.repo_id, revision=ref.revision, timeout=_timeout(),
                                 files_metadata=True)
    except (RepositoryNotFoundError, RevisionNotFoundError) as error:
        raise _hub_error(ref, error) from None
    except HfHubHTTPError as error:  # 5xx, 429, a proxy's answer: the cached copy may do
        if _status(error) == 401:
            raise _hub_error(ref, error) from None
        return f"the Hub answered HTTP {_status(error)}"
    except Exception as error:  # noqa: BLE001 - no route, DNS, timeout: types vary by version
        return _first_line(error)
    if info.siblings is not None and SLIDERS_JSON not in {s.rfilename for s in info.siblings}:
        raise _not_a_set(ref)
    fetched = sum(s.size or 0 for s in info.siblings or () if allowed(s.rfilename))
    if fetched > limits.MAX_HUB_SET_BYTES:
        raise SemantifyError(f"{ref} holds {fetched / 1e6:.0f} MB of files; a slider set is a few "
                             f"MB (at most {limits.MAX_HUB_SET_BYTES // 1_000_000} MB here): check "
                             "the repository.")
    return None


def _hub_error(ref: HubRef, error: Exception) -> SemantifyError:
    """The one line for an answer of the Hub that is not a slider set."""
    from huggingface_hub.errors import (GatedRepoError, RepositoryNotFoundError,
                                        RevisionNotFoundError)

    if isinstance(error, GatedRepoError):
        return SemantifyError(f"{ref} is gated; accept its conditions at {ref.url} and log in "
                              "with `hf auth login`.")
    if isinstance(error, RepositoryNotFoundError):
        return SemantifyError(f"{PREFIX}{ref.repo_id} does not exist on the Hugging Face Hub "
                              "(or is private); check OWNER/NAME, or log in with `hf auth "
                              "login` if it is your private set.")
    if isinstance(error, RevisionNotFoundError):
        revision = ref.revision or "main"
        return SemantifyError(f"{PREFIX}{ref.repo_id} has no revision {revision!r}; use a "
                              f"branch, tag or commit listed at {ref.url}/tree/main, or drop "
                              f"@{revision}.")
    status = _status(error)
    if status == 401:
        return SemantifyError("the Hugging Face Hub rejected your token (HTTP 401); log in "
                              "again with `hf auth login`, or unset HF_TOKEN.")
    return SemantifyError(f"the Hugging Face Hub refused {ref} (HTTP {status}: "
                          f"{_first_line(error)}); try again later.")


def _status(error: Exception) -> int | None:
    response = getattr(error, "response", None)
    return getattr(response, "status_code", None)


def _first_line(error: BaseException, limit: int = 160) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return (lines[0] if lines else type(error).__name__)[:limit]


# -- integrity of the cache --------------------------------------------------------------------

def check_cached_files(folder: Path, ref: HubRef | str) -> None:
    """Refuse a cached snapshot that is not a plain set of files inside the Hub cache, or whose
    files no longer match the hash they are stored under; nothing is opened before its kind,
    place and size are known.

    Every entry must resolve to a regular file (or folder) under ``HF_HUB_CACHE``, and together
    hold at most MAX_HUB_SET_BYTES. In the Hugging Face cache each file of ``snapshots/REV/``
    links to ``blobs/HASH``: the sha256 of an LFS file (64 hex digits), the git blob sha1 of a
    regular one (40). A file copied in place (no link, as on Windows without symlinks) is left
    to the set's own hash.
    """
    from huggingface_hub import constants

    root = Path(constants.HF_HUB_CACHE).resolve()
    folder = Path(folder)
    outside = SemantifyError(f"{ref} is not a slider set in the Hugging Face cache; load it "
                             "by its Hub name (hf://OWNER/NAME).")
    if not folder.resolve().is_relative_to(root):
        raise outside
    total, blobs = 0, []
    for path in sorted(folder.rglob("*")):
        target = path.resolve()
        if not target.is_relative_to(root) or not (target.is_file() or target.is_dir()):
            raise outside
        if target.is_file():
            total += target.stat().st_size
            blobs.append((path, target))
    if total > limits.MAX_HUB_SET_BYTES:
        raise SemantifyError(f"{ref} holds {total / 1e6:.0f} MB of files; a slider set is a "
                             f"few MB (at most {limits.MAX_HUB_SET_BYTES // 1_000_000} MB here): "
                             "check the repository.")
    for path, blob in blobs:
        if blob.parent.name != "blobs":
            continue
        actual = _content_hash(blob, len(blob.name))
        if actual is not None and actual != blob.name:
            raise SemantifyError(
                f"the cached copy of {ref} is damaged ({path.relative_to(folder).as_posix()} "
                f"does not match its checksum); delete {Path(folder).parent.parent} and load "
                "it again while online.")


def _content_hash(path: Path, digits: int) -> str | None:
    """sha256 (``digits`` 64) or git blob sha1 (40) of the file at ``path``; else None."""
    if digits == 64:
        digest = hashlib.sha256()
    elif digits == 40:
        digest = hashlib.sha1(f"blob {path.stat().st_size}\0".encode(), usedforsecurity=False)
    else:
        return None
    with open(path, "rb") as file:
        while chunk := file.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# -- push ------------------------------------------------------------------------------------

def allowed(path_in_repo: str) -> bool:
    """Whether a file of a set may go to (or come from) the Hub: JSON, safetensors, Markdown or
    PNG, and not hidden."""
    name = path_in_repo.rsplit("/", 1)[-1]
    return not name.startswith(".") and any(fnmatch.fnmatch(name, p) for p in ALLOW_PATTERNS)


@dataclasses.dataclass(frozen=True)
class PushPlan:
    """What ``semantify push`` uploads: the set's files (path in repo, bytes), its model card
    (README.md text, front matter merged), and the files it leaves out."""

    folder: Path
    target: HubRef
    private: bool
    files: tuple[tuple[str, int], ...]
    card: str
    skipped: tuple[str, ...]

    def describe(self) -> str:
        """A human-readable listing: files with sizes, skipped files, the card's front matter."""
        from huggingface_hub import ModelCard

        visibility = "private" if self.private else "public if new"
        branch = self.target.revision or "main"
        lines = [f"would push {self.folder} to {self.target} (branch {branch}, {visibility}):"]
        card_bytes = len(self.card.encode())
        rows = [(CARD, card_bytes, "model card, front matter merged")]
        rows += [(name, size, "") for name, size in self.files]
        width = max(len(name) for name, _, _ in rows)
        for name, size, note in rows:
            lines.append(f"  {name:<{width}}  {_size(size):>9}" + (f"  ({note})" if note else ""))
        total = sum(size for _, size, _ in rows)
        lines.append(f"  {len(rows)} files, {_size(total)}")
        for name in self.skipped:
            lines.append(f"  skipped: {name} (only JSON, safetensors, Markdown and PNG go)")
        lines.append("card front matter:")
        lines.append("---")
        lines.append(ModelCard(self.card, ignore_metadata_errors=True).data.to_yaml())
        lines.append("---")
        return "\n".join(lines)


def _size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return ""


def plan_push(folder: str | os.PathLike, target: str, private: bool = False,
              revision: str | None = None) -> PushPlan:
    """Check the set at ``folder`` (it must load) and list what a push to ``target``
    (``OWNER/NAME`` or ``hf://OWNER/NAME``) on branch ``revision`` would upload."""
    from semantify.models import spec
    from semantify.models.licences import licence_for
    from semantify.sets.card_metadata import front_matter, merge_card, minimal_body
    from semantify.sets.sliders import SliderSet

    folder = Path(folder)
    ref = HubRef.parse(target if is_hub_path(target) else PREFIX + str(target))
    if ref.revision and revision and ref.revision != revision:
        raise SemantifyError(f"{target} names revision {ref.revision!r} but --revision says "
                             f"{revision!r}; give the branch once.")
    ref = HubRef(ref.repo_id, revision or ref.revision)
    if ref.revision and re.fullmatch(r"[0-9a-f]{40}", ref.revision):
        raise SemantifyError(f"--revision {ref.revision} is a commit; push to a branch name.")
    slider_set = SliderSet.load(folder)
    files, skipped = [], []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        if name == CARD:
            continue
        (files if allowed(name) else skipped).append(name)
    clip = slider_set.clip
    metadata = front_matter(slider_set.model_id, spec(slider_set.model_id).family, clip)
    readme = (folder / CARD).read_text() if (folder / CARD).is_file() else None
    body = minimal_body(ref.repo_id, slider_set.model_id, slider_set.sliders,
                        clip.label if clip is not None else None,
                        licence_for(slider_set.model_id).statement)
    return PushPlan(folder, ref, private,
                    tuple((name, (folder / name).stat().st_size) for name in files),
                    merge_card(readme, metadata, body), tuple(skipped))


def push(plan: PushPlan, token: str | None = None) -> str:
    """Upload ``plan`` as one commit (files the set no longer has are deleted from the repo);
    returns the commit's URL. Needs a token with write access (``hf auth login``/HF_TOKEN)."""
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi, get_token
    from huggingface_hub.errors import HfHubHTTPError

    token = token or get_token()
    if not token:
        raise SemantifyError("no Hugging Face token; log in with `hf auth login` (a token with "
                             "write access) or set HF_TOKEN, or use --dry-run to see the upload "
                             "without one.")
    api, repo_id, branch = HfApi(token=token), plan.target.repo_id, plan.target.revision
    try:
        api.create_repo(repo_id, private=plan.private, exist_ok=True)
        if branch:
            api.create_branch(repo_id, branch=branch, exist_ok=True)
        keep = {name for name, _ in plan.files} | {CARD}
        stale = [name for name in api.list_repo_files(repo_id, revision=branch)
                 if allowed(name) and name not in keep]
        operations = [CommitOperationAdd(CARD, plan.card.encode())]
        operations += [CommitOperationAdd(name, str(plan.folder / name)) for name, _ in plan.files]
        operations += [CommitOperationDelete(name) for name in stale]
        commit = api.create_commit(repo_id, operations, revision=branch,
                                   commit_message=f"semantify push {plan.folder.name}")
    except HfHubHTTPError as error:
        if _status(error) in (401, 403):
            raise SemantifyError(f"the Hugging Face Hub refused the push to {plan.target} (HTTP "
                                 f"{_status(error)}); use a token with write access to "
                                 f"{repo_id.split('/')[0]} (`hf auth login`).") from None
        raise _hub_error(plan.target, error) from None
    except Exception as error:  # noqa: BLE001 - no route, DNS, timeout: types vary by version
        raise SemantifyError(f"cannot push to the Hugging Face Hub ({_first_line(error)}); "
                             "check the network (or HF_ENDPOINT) and run the same command "
                             "again.") from None
    return commit.commit_url
