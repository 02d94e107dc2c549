"""Checks on mesh arrays before they reach OpenGL, and smooth vertex normals."""

from __future__ import annotations

import numpy as np

from viewer.errors import ViewerError


def as_numpy(array) -> np.ndarray:
    """A numpy view of a numpy array or a (possibly CUDA, grad-tracking) torch tensor."""
    if hasattr(array, "detach"):
        array = array.detach().cpu().numpy()
    return np.asarray(array)


def check_faces(faces) -> np.ndarray:
    """(F, 3) non-negative integer triangles -> contiguous (F, 3) uint32."""
    faces = as_numpy(faces)
    if faces.ndim != 2 or faces.shape[1] != 3 or len(faces) == 0:
        raise ViewerError(f"faces must be a non-empty (F, 3) array of triangles, got shape "
                          f"{faces.shape}.")
    if not np.issubdtype(faces.dtype, np.integer):
        raise ViewerError(f"faces must be integer vertex indices, got dtype {faces.dtype}.")
    if faces.min() < 0 or faces.max() >= 2**32 - 1:
        raise ViewerError(f"face indices must be in [0, V), got values from {faces.min()} to "
                          f"{faces.max()}.")
    return np.ascontiguousarray(faces, dtype=np.uint32)


def check_vertices(vertices, faces: np.ndarray, batched: bool) -> np.ndarray:
    """Finite (B, V, 3) (or (V, 3) if not ``batched``) vertices that ``faces`` index into,
    as contiguous float32."""
    vertices = as_numpy(vertices)
    shape = "(B, V, 3)" if batched else "(V, 3)"
    if vertices.ndim != (3 if batched else 2) or vertices.shape[-1] != 3 or not vertices.size:
        raise ViewerError(f"vertices must be a non-empty {shape} array, got shape "
                          f"{vertices.shape}.")
    vertices = np.ascontiguousarray(vertices, dtype=np.float32)
    if not np.isfinite(vertices).all():
        raise ViewerError("vertices contain NaN or inf; pass finite coordinates.")
    top = int(faces.max())
    if top >= vertices.shape[-2]:
        raise ViewerError(f"a face refers to vertex {top} but the mesh has only "
                          f"{vertices.shape[-2]} vertices; check faces and vertices match.")
    return vertices


class VertexNormals:
    """Smooth normals of meshes sharing (F, 3) ``faces``: area-weighted face normals summed
    around each vertex (one ``bincount`` per axis: about twice as fast as ``reduceat`` here)."""

    def __init__(self, faces: np.ndarray):
        self.faces = faces
        self._corners = [np.ascontiguousarray(faces[:, k]) for k in range(3)]
        self._flat = faces.ravel()

    def __call__(self, vertices: np.ndarray) -> np.ndarray:
        """(V, 3) float32 vertices -> (V, 3) float32 unit normals (zero for unused vertices)."""
        a, b, c = (vertices[corner] for corner in self._corners)
        e1, e2 = b - a, c - a
        face_normals = (e1[:, 1] * e2[:, 2] - e1[:, 2] * e2[:, 1],  # the cross product,
                        e1[:, 2] * e2[:, 0] - e1[:, 0] * e2[:, 2],  # written out: np.cross
                        e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0])  # is slower
        normals = np.stack([np.bincount(self._flat, np.repeat(axis, 3), len(vertices))
                            for axis in face_normals], axis=1)
        length = np.sqrt(np.einsum("ij,ij->i", normals, normals))[:, None]
        return (normals / np.maximum(length, 1e-12)).astype(np.float32)
