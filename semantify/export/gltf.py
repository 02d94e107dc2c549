"""A binary glTF 2.0 (GLB) writer for one mesh: normals, a PBR material (texture or colour),
and optionally a skin (joints, inverse bind matrices, weights, the pose as nodes and as a
one-frame animation) and morph targets (shape keys, named in ``extras.targetNames``).

Written by hand (JSON + one binary buffer) because trimesh writes neither skins nor morph
targets. Arrays are (V, ...) in the vertex order of the GLB (seam-split when textured).
"""

from __future__ import annotations

import io
import json
import struct

import numpy as np

FLOAT, UINT16, UINT32 = 5126, 5123, 5125
ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER = 34962, 34963
WIDTHS = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT4": 16}


class GlbWriter:
    """Builds one glTF document and its binary chunk, then :meth:`bytes` packs the GLB."""

    def __init__(self):
        self.document = {"asset": {"version": "2.0", "generator": "semantify"},
                         "scene": 0, "scenes": [{"nodes": []}], "nodes": [], "meshes": [],
                         "accessors": [], "bufferViews": [], "buffers": []}
        self._binary = io.BytesIO()

    def add(self, key: str, item: dict) -> int:
        """Append ``item`` to the top-level list ``key``; its index."""
        self.document.setdefault(key, []).append(item)
        return len(self.document[key]) - 1

    def view(self, data: bytes, target: int | None = None) -> int:
        """A buffer view of ``data``, 4-byte aligned in the binary chunk."""
        offset = self._binary.tell()
        self._binary.write(data)
        self._binary.write(b"\0" * (-len(data) % 4))
        view = {"buffer": 0, "byteOffset": offset, "byteLength": len(data)}
        if target is not None:
            view["target"] = target
        return self.add("bufferViews", view)

    def accessor(self, array: np.ndarray, kind: str, component: int = FLOAT,
                 target: int | None = ARRAY_BUFFER, bounds: bool = False) -> int:
        """An accessor of ``array`` ((N,) or (N, width); MAT4 as (N, 4, 4) row-major)."""
        dtype = {FLOAT: np.float32, UINT16: np.uint16, UINT32: np.uint32}[component]
        if kind == "MAT4":  # glTF matrices are column-major
            array = np.transpose(array, (0, 2, 1))
        flat = np.ascontiguousarray(array, dtype=dtype).reshape(len(array), WIDTHS[kind])
        item = {"bufferView": self.view(flat.tobytes(), target), "componentType": component,
                "count": len(flat), "type": kind}
        if bounds:
            item["min"] = flat.min(axis=0).tolist()
            item["max"] = flat.max(axis=0).tolist()
        return self.add("accessors", item)

    def image(self, png: bytes) -> int:
        """A PNG texture (image, sampler, texture); the texture's index."""
        image = self.add("images", {"bufferView": self.view(png), "mimeType": "image/png"})
        sampler = self.add("samplers", {"magFilter": 9729, "minFilter": 9987,
                                        "wrapS": 33071, "wrapT": 33071})
        return self.add("textures", {"source": image, "sampler": sampler})

    def bytes(self) -> bytes:
        binary = self._binary.getvalue()
        self.document["buffers"] = [{"byteLength": len(binary)}]
        text = json.dumps(self.document, separators=(",", ":")).encode()
        text += b" " * (-len(text) % 4)
        total = 12 + 8 + len(text) + 8 + len(binary)
        return b"".join([struct.pack("<4sII", b"glTF", 2, total),
                         struct.pack("<I4s", len(text), b"JSON"), text,
                         struct.pack("<I4s", len(binary), b"BIN\0"), binary])


def rigid_parts(matrix: np.ndarray) -> tuple[list[float], list[float]]:
    """(4, 4) rigid transform -> (translation [x, y, z], rotation quaternion [x, y, z, w])."""
    import roma
    import torch

    rotation = torch.as_tensor(np.asarray(matrix[:3, :3], dtype=np.float64))
    quaternion = roma.rotmat_to_unitquat(roma.special_procrustes(rotation)).numpy()
    quaternion = quaternion if quaternion[3] >= 0 else -quaternion
    return matrix[:3, 3].tolist(), (quaternion / np.linalg.norm(quaternion)).tolist()
