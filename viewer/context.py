"""One headless OpenGL context per process, created lazily and shared by every renderer.

EGL comes first (Mesa llvmpipe on a CPU, the NVIDIA driver on a GPU), then the platform's
default. The context is left current on no thread: every use goes through :func:`gl_session`,
which holds :data:`gl_lock` and makes the context current on the calling thread, so request
threads of the app can render one after another safely. Within :func:`gl_turns`, each
session first waits for a turn the caller names (an app's line of frames), so that long jobs
draw in turn with others instead of holding the driver.
"""

from __future__ import annotations

import contextlib
import contextvars
import ctypes
import ctypes.util
import os
import threading
from collections.abc import Callable, Iterator
from typing import ContextManager

import moderngl

from viewer.errors import ViewerError
from viewer.unlocked import Calls, calls

MIN_GL_VERSION = 330
SYSTEM_PACKAGES = "libegl1 libgl1-mesa-dri libegl-mesa0"

gl_lock = threading.RLock()
_context: moderngl.Context | None = None
_context_pid: int | None = None
_backend: str | None = None  # the backend that made it ("egl", or None: the platform's)
_turn: contextvars.ContextVar[Callable[[], ContextManager] | None] = contextvars.ContextVar(
    "gl_turn", default=None)


def _release_current(backend: str) -> None:
    """Make no context current on this thread, so that other threads can take it."""
    if backend == "egl":
        library = ctypes.CDLL(ctypes.util.find_library("EGL") or "libEGL.so.1")
        library.eglGetCurrentDisplay.restype = ctypes.c_void_p
        library.eglMakeCurrent.argtypes = [ctypes.c_void_p] * 4
        library.eglMakeCurrent(library.eglGetCurrentDisplay(), None, None, None)
    elif backend == "x11":
        library = ctypes.CDLL(ctypes.util.find_library("GL") or "libGL.so.1")
        library.glXGetCurrentDisplay.restype = ctypes.c_void_p
        library.glXMakeCurrent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_void_p]
        library.glXMakeCurrent(library.glXGetCurrentDisplay(), 0, None)


def _create() -> tuple[moderngl.Context, str | None]:
    failures = []
    for backend in ("egl", None):
        try:
            options = {"backend": backend} if backend else {}
            context = moderngl.create_context(standalone=True, require=MIN_GL_VERSION, **options)
        except Exception as error:  # moderngl and glcontext raise assorted types here
            reason = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
            failures.append(f"{backend or 'default'}: {reason}")
            continue
        context.info  # noqa: B018 - moderngl caches it: read it while the context is current
        with contextlib.suppress(OSError, AttributeError):
            _release_current(backend or ("x11" if os.name == "posix" else ""))
        return context, backend
    raise ViewerError(
        f"no headless OpenGL {MIN_GL_VERSION // 100}.{MIN_GL_VERSION % 100 // 10} context could "
        f"be created ({'; '.join(failures)}); install the system packages {SYSTEM_PACKAGES} "
        "(Debian/Ubuntu: apt-get install " + SYSTEM_PACKAGES + ") or a GPU driver with EGL.")


def gl_context() -> moderngl.Context:
    """The process's shared context (created on first use; a forked child makes its own)."""
    global _context, _context_pid, _backend
    with gl_lock:
        if _context is None or _context_pid != os.getpid():
            (_context, _backend), _context_pid = _create(), os.getpid()
        return _context


def unlocked_calls() -> Calls | None:
    """GL calls that let other threads run while the driver draws (see
    :mod:`viewer.unlocked`), for the shared context; None where they cannot be had."""
    gl_context()
    return calls(_backend)


@contextlib.contextmanager
def gl_turns(turn: Callable[[], ContextManager] | None) -> Iterator[None]:
    """Within: every :func:`gl_session` (of this thread, and of work it hands its context
    variables to) first enters ``turn()``, and sessions nested in it do not; None: no turns."""
    token = _turn.set(turn)
    try:
        yield
    finally:
        _turn.reset(token)


@contextlib.contextmanager
def gl_session() -> Iterator[moderngl.Context]:
    """Hold :data:`gl_lock` and make the shared context current on this thread (after the
    turn of :func:`gl_turns`, if any)."""
    turn = _turn.get()
    with turn() if turn is not None else contextlib.nullcontext(), gl_lock, \
            gl_turns(None):  # sessions nested in this one are inside its turn
        context = gl_context()
        with context:
            yield context


def max_image_size(context: moderngl.Context) -> int:
    """The largest square side this context can render into and read back."""
    info = context.info
    limits = [info["GL_MAX_TEXTURE_SIZE"], info["GL_MAX_RENDERBUFFER_SIZE"],
              *info["GL_MAX_VIEWPORT_DIMS"]]
    return int(min(limits))


def check_size(context: moderngl.Context, size, what: str = "image size") -> int:
    """``size`` as an int in [1, max_image_size], or a ViewerError naming the valid range."""
    limit = max_image_size(context)
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= limit:
        raise ViewerError(f"{what} must be an integer from 1 to {limit} pixels "
                          f"(this OpenGL's limit), got {size!r}.")
    return size


def check_samples(context: moderngl.Context, samples) -> int:
    """MSAA ``samples`` as an int in [0, context.max_samples], or a ViewerError."""
    limit = context.max_samples
    if isinstance(samples, bool) or not isinstance(samples, int) or not 0 <= samples <= limit:
        raise ViewerError(f"samples (MSAA) must be an integer from 0 to {limit} on this "
                          f"OpenGL, got {samples!r}.")
    return samples
