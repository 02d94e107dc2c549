"""Coarser triangles for draft frames: a mesh decimated by quadric edge collapses
(``fast_simplification``) to a share of its triangles, over the mesh's own vertices.

Each collapse folds one vertex into another, so the coarse mesh is the fine one's triangles
with every vertex replaced by the one it was folded into: it indexes the same vertex buffer,
follows the mesh as it deforms and keeps the fine mesh's smooth normals. Borders (a split
mesh's texture seams) are kept, so no seam opens.

On a CPU (llvmpipe) a frame of a 27,000-triangle body is bound by its triangles, not its
pixels: a draft with a quarter of them draws in about half the time.
"""

from __future__ import annotations

import numpy as np

DRAFT_SHARE = 0.25  # of a mesh's triangles a draft frame draws
MIN_FACES = 4096  # meshes with fewer triangles are drawn whole


def coarser_faces(positions, faces, share: float = DRAFT_SHARE) -> np.ndarray:
    """(V, 3) positions, (F, 3) int faces -> about ``share`` x F faces into the same V
    vertices (``faces`` itself for a mesh of fewer than MIN_FACES)."""
    faces = np.asarray(faces, dtype=np.int64)
    if len(faces) < MIN_FACES:
        return faces
    import fast_simplification

    _, _, collapses = fast_simplification.simplify(
        np.asarray(positions, dtype=np.float64), faces, target_reduction=1.0 - share,
        return_collapses=True, preserve_border=True)
    into = np.arange(len(positions))
    into[collapses[:, 1]] = collapses[:, 0]  # each vertex folds at most once
    while not np.array_equal(into[into], into):  # a vertex folded into one folded later
        into = into[into]
    coarse = into[faces]
    whole = (coarse[:, 0] != coarse[:, 1]) & (coarse[:, 1] != coarse[:, 2]) & \
        (coarse[:, 0] != coarse[:, 2])
    return coarse[whole]
