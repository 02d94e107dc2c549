"""The slow parts of a frame (the mesh's draw call, where llvmpipe shades the vertices; waiting
for the driver to draw; resolving MSAA; reading pixels back) through GL calls that let other
Python threads run meanwhile.

moderngl holds the interpreter's lock inside every GL call. On a CPU (Mesa llvmpipe) a frame is
drawn when it is resolved or read back, so a server drawing frames starves its other threads
(the web server's event loop above all: a page load under a stream of frames took ten times
longer). The same calls made through :mod:`ctypes` release the lock while the driver works.
They are looked up once per process through EGL; without EGL (another backend) :func:`calls`
is None and the renderers use moderngl's own calls.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import dataclasses
import functools

import moderngl
import numpy as np

GL_READ_FRAMEBUFFER, GL_DRAW_FRAMEBUFFER = 0x8CA8, 0x8CA9
GL_COLOR_BUFFER_BIT, GL_NEAREST = 0x4000, 0x2600
GL_PACK_ALIGNMENT, GL_RGB, GL_UNSIGNED_BYTE = 0x0D05, 0x1907, 0x1401
GL_TRIANGLES, GL_UNSIGNED_INT = 0x0004, 0x1405

_int, _uint = ctypes.c_int, ctypes.c_uint
_SIGNATURES = {
    "glFinish": (),
    "glBindFramebuffer": (_uint, _uint),
    "glBlitFramebuffer": (*(_int,) * 8, _uint, _uint),
    "glPixelStorei": (_uint, _int),
    "glReadPixels": (*(_int,) * 4, _uint, _uint, ctypes.c_void_p),
    "glUseProgram": (_uint,),
    "glBindVertexArray": (_uint,),
    "glDrawElements": (_uint, _int, _uint, ctypes.c_void_p),
}


@dataclasses.dataclass(frozen=True)
class Calls:
    """GL entry points called without the interpreter's lock (current context's)."""

    finish: ctypes._CFuncPtr
    bind: ctypes._CFuncPtr
    blit_: ctypes._CFuncPtr
    store: ctypes._CFuncPtr
    read_: ctypes._CFuncPtr
    use: ctypes._CFuncPtr
    bind_array: ctypes._CFuncPtr
    draw_: ctypes._CFuncPtr

    def draw(self, array: moderngl.VertexArray) -> None:
        """``array``'s triangles, indexed by 32-bit integers, with its program: what
        ``array.render(moderngl.TRIANGLES)`` does."""
        self.use(array.program.glo)
        self.bind_array(array.glo)
        self.draw_(GL_TRIANGLES, array.vertices, GL_UNSIGNED_INT, None)

    def blit(self, source: moderngl.Framebuffer, target: moderngl.Framebuffer,
             width: int, height: int) -> None:
        """Resolve ``source``'s colour (multisampled) into ``target``: the frame is drawn
        here. Leaves ``source`` bound, as moderngl last bound it."""
        self.bind(GL_READ_FRAMEBUFFER, source.glo)
        self.bind(GL_DRAW_FRAMEBUFFER, target.glo)
        self.blit_(0, 0, width, height, 0, 0, width, height, GL_COLOR_BUFFER_BIT, GL_NEAREST)
        self.bind(GL_READ_FRAMEBUFFER, source.glo)
        self.bind(GL_DRAW_FRAMEBUFFER, source.glo)

    def read(self, framebuffer: moderngl.Framebuffer, width: int, height: int,
             rebind: moderngl.Framebuffer) -> np.ndarray:
        """``framebuffer``'s (height, width, 3) uint8 RGB, bottom row first; ``rebind`` is
        bound again afterwards (moderngl's idea of the bound framebuffer)."""
        pixels = np.empty((height, width, 3), np.uint8)
        self.bind(GL_READ_FRAMEBUFFER, framebuffer.glo)
        self.store(GL_PACK_ALIGNMENT, 1)
        self.read_(0, 0, width, height, GL_RGB, GL_UNSIGNED_BYTE, pixels.ctypes.data)
        self.bind(GL_READ_FRAMEBUFFER, rebind.glo)
        return pixels


def draw(calls: Calls | None, array: moderngl.VertexArray) -> None:
    """Draw ``array``'s indexed triangles through ``calls`` (other threads run meanwhile), or
    moderngl's own."""
    if calls is None:
        array.render(moderngl.TRIANGLES)
    else:
        calls.draw(array)


def finish(context: moderngl.Context, calls: Calls | None, multisampled, plain,
           width: int, height: int) -> None:
    """Resolve ``multisampled`` (None: nothing to resolve) into ``plain`` and wait until the
    driver has drawn: through ``calls`` (other threads run meanwhile), or moderngl's own."""
    if calls is None:
        if multisampled is not None:
            context.copy_framebuffer(plain, multisampled)
        context.finish()
        return
    calls.finish()
    if multisampled is not None:
        calls.blit(multisampled, plain, width, height)
        calls.finish()


def read(calls: Calls | None, plain: moderngl.Framebuffer, width: int, height: int,
         rebind: moderngl.Framebuffer) -> np.ndarray:
    """``plain``'s (height, width, 3) uint8 RGB from (0, 0), bottom row first, through
    ``calls`` (see :meth:`Calls.read`) or moderngl's own."""
    if calls is not None:
        return calls.read(plain, width, height, rebind=rebind)
    data = plain.read(viewport=(0, 0, width, height), components=3, alignment=1)
    return np.frombuffer(data, dtype=np.uint8).reshape(height, width, 3)


@functools.cache
def _lookup(backend: str) -> Calls | None:
    if backend != "egl":
        return None
    try:
        library = ctypes.CDLL(ctypes.util.find_library("EGL") or "libEGL.so.1")
        lookup = library.eglGetProcAddress
    except (OSError, AttributeError):
        return None
    lookup.restype, lookup.argtypes = ctypes.c_void_p, [ctypes.c_char_p]
    found = []
    for name, arguments in _SIGNATURES.items():
        address = lookup(name.encode())
        if not address:
            return None
        found.append(ctypes.CFUNCTYPE(None, *arguments)(address))  # CFUNCTYPE: lock released
    return Calls(*found)


def calls(backend: str | None) -> Calls | None:
    """The lock-free calls for a context made with ``backend`` (None unless EGL)."""
    return _lookup(backend or "")
