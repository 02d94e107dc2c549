"""GLSL programs built from ``viewer/shaders/*.glsl`` (with a tiny ``#include``)."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import moderngl
import numpy as np

SHADERS = Path(__file__).parent / "shaders"
_INCLUDE = re.compile(r'^#include "([\w.]+)"$', re.MULTILINE)


@functools.cache
def shader_source(name: str) -> str:
    """The text of ``shaders/NAME``, with ``#include "other.glsl"`` lines expanded."""
    text = (SHADERS / name).read_text()
    return _INCLUDE.sub(lambda match: shader_source(match.group(1)), text)


def build_program(context: moderngl.Context, name: str,
                  defines: tuple[str, ...] = ()) -> moderngl.Program:
    """Compile and link ``shaders/NAME.vert.glsl`` and ``shaders/NAME.frag.glsl``, with a
    ``#define`` line after ``#version`` for each of ``defines`` (shader variants)."""
    def source(stage: str) -> str:
        version, _, rest = shader_source(f"{name}.{stage}.glsl").partition("\n")
        return "\n".join([version, *(f"#define {define}" for define in defines), rest])

    return context.program(vertex_shader=source("vert"), fragment_shader=source("frag"))


def set_uniforms(program: moderngl.Program, **values) -> None:
    """Set the uniforms the program uses; (4, 4) arrays are row-major matrices.

    Uniforms the GLSL compiler optimised away are skipped silently.
    """
    for name, value in values.items():
        if name not in program:
            continue
        if isinstance(value, np.ndarray) and value.shape == (4, 4):
            program[name].write(np.ascontiguousarray(value.T, dtype=np.float32).tobytes())
        else:
            program[name].value = value
