"""Visible self-intersections of a mesh's skin: lips through lips, eyelids, limbs into the torso.

A morphable model's rest mesh often intersects itself by design: Anny's eyes, teeth and tongue
are separate pieces inside the head, and its toes, fingers and closed lips touch. Counting every
intersecting triangle pair (as open3d's ``get_self_intersecting_triangles`` does: ~1,100 pairs on
Anny's default body) therefore says nothing, and Anny's own detector skips pairs that share a
bone, which hides crossed lips. What counts here:

- only the **skin**: the mesh's largest connected piece (eyes, teeth and tongue are left out);
- only pairs that the **rest mesh does not have**: a pair is ignored when both its triangles lie
  within :data:`RINGS` rings of a pair that intersects at rest;
- only intersections deep enough to **see**: some crossing pair of triangles reaches at least
  ``min_depth`` through the other (a model uses one pixel of a 224-pixel render of its
  framing: ~1.6 mm for a head, ~1 cm for a full body). Closed eyelids and lips pressed
  together touch along a seam a fraction of a millimetre deep; a lip folded through the other
  lip goes several millimetres. The depth of a pair is how far the lesser side of one triangle
  reaches past the other's plane, so it is bounded by the triangles' size.

Candidates come from warp's BVH (``wp.mesh_query_aabb``) and its ``intersect_tri_tri``; warp is
already Anny's dependency and runs on CPU. That test is generous (touching triangles pass), so
each candidate is confirmed in float64 with orientation predicates (an edge of one triangle
crosses the other). Triangles sharing a vertex are never compared.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

RINGS = 2  # rings of neighbours around a rest-mesh intersection that count as "by design"
RENDER_PIXELS = 224  # the generation's render size: one of its pixels is the visible depth
MAX_PAIRS = 200_000  # candidate buffer per mesh; a mesh with more is certainly intersecting


@functools.cache
def _kernel():
    """The warp kernel (compiled on first use; warp caches it on disk)."""
    from semantify.compat import quiet_native_stderr

    with quiet_native_stderr():  # no GPU: warp prints a CUDA banner from native code
        import warp as wp

        wp.config.quiet = True
        wp.init()

    @wp.kernel
    def candidate_pairs(mesh: wp.uint64, queries: wp.array(dtype=wp.int32),
                        queried: wp.array(dtype=wp.int32), out: wp.array(dtype=wp.int32, ndim=2),
                        count: wp.array(dtype=wp.int32)):
        f = queries[wp.tid()]
        m = wp.mesh_get(mesh)
        i0 = m.indices[f * 3]
        i1 = m.indices[f * 3 + 1]
        i2 = m.indices[f * 3 + 2]
        a0 = m.points[i0]
        a1 = m.points[i1]
        a2 = m.points[i2]
        query = wp.mesh_query_aabb(mesh, wp.min(wp.min(a0, a1), a2), wp.max(wp.max(a0, a1), a2))
        for t in query:
            j0 = m.indices[t * 3]
            j1 = m.indices[t * 3 + 1]
            j2 = m.indices[t * 3 + 2]
            shared = (j0 == i0 or j0 == i1 or j0 == i2 or j1 == i0 or j1 == i1 or j1 == i2
                      or j2 == i0 or j2 == i1 or j2 == i2)
            # a pair of two queried faces is tested once, from its lower face
            if (not shared and t != f and (queried[t] == 0 or t > f)
                    and wp.intersect_tri_tri(a0, a1, a2, m.points[j0], m.points[j1],
                                             m.points[j2]) != 0):
                k = wp.atomic_add(count, 0, 1)
                if k < out.shape[0]:
                    out[k, 0] = f
                    out[k, 1] = t

    return wp, candidate_pairs


def _orient(p, q, r, s) -> np.ndarray:
    """(..., 3) points -> (...) six times the signed volume of tetrahedron (p, q, r, s)."""
    return np.einsum("...c,...c->...", np.cross(q - p, r - p), s - p)


def _edge_crosses(p, q, a, b, c) -> np.ndarray:
    """(P, 3) edges p-q and triangles abc -> (P,) bool: the edge passes through the triangle."""
    s1, s2 = _orient(a, b, c, p), _orient(a, b, c, q)
    e1, e2, e3 = _orient(p, q, a, b), _orient(p, q, b, c), _orient(p, q, c, a)
    inside = ((e1 > 0) & (e2 > 0) & (e3 > 0)) | ((e1 < 0) & (e2 < 0) & (e3 < 0))
    return (s1 * s2 < 0) & inside


def triangles_intersect(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """(P, 3, 3) and (P, 3, 3) triangles -> (P,) bool: they cross (coplanar touching does not)."""
    first, second = np.asarray(first, np.float64), np.asarray(second, np.float64)
    hit = np.zeros(len(first), dtype=bool)
    for one, other in ((first, second), (second, first)):
        for i, j in ((0, 1), (1, 2), (2, 0)):
            hit |= _edge_crosses(one[:, i], one[:, j], other[:, 0], other[:, 1], other[:, 2])
    return hit


def largest_piece(faces: np.ndarray, num_vertices: int) -> np.ndarray:
    """(F, 3) faces -> (F,) bool: the faces of the largest connected piece (by face count)."""
    parent = np.arange(num_vertices)

    def root(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b, c in faces.tolist():
        for u, v in ((a, b), (b, c)):
            ru, rv = root(u), root(v)
            if ru != rv:
                parent[ru] = rv
    roots = np.array([root(v) for v in faces[:, 0].tolist()])
    values, counts = np.unique(roots, return_counts=True)
    return roots == values[np.argmax(counts)]


def _face_rings(faces: np.ndarray, seeds: np.ndarray, rings: int) -> list[np.ndarray]:
    """For each seed face, the faces within ``rings`` vertex-sharing steps of it."""
    by_vertex: dict[int, list[int]] = {}
    for face, corners in enumerate(faces.tolist()):
        for vertex in corners:
            by_vertex.setdefault(vertex, []).append(face)
    out = []
    for seed in seeds.tolist():
        near = {seed}
        for _ in range(rings):
            near = {g for h in near for v in faces[h].tolist() for g in by_vertex[v]}
        out.append(np.fromiter(near, dtype=np.int64))
    return out


def penetration(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """(P, 3, 3) crossing triangle pairs -> (P,) how far one reaches through the other.

    For triangle T against U's plane: the smaller of T's excursions in front of and behind the
    plane (the part that went through); the pair's depth is the larger of the two directions.
    """
    first, second = np.asarray(first, np.float64), np.asarray(second, np.float64)

    def through(t, u):
        normal = np.cross(u[:, 1] - u[:, 0], u[:, 2] - u[:, 0])
        normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-20)
        side = np.einsum("pkc,pc->pk", t - u[:, None, 0], normal)
        return np.minimum(np.maximum(side, 0).max(axis=1), np.maximum(-side, 0).max(axis=1))

    return np.maximum(through(first, second), through(second, first))


@dataclasses.dataclass(frozen=True)
class Intersections:
    """What :meth:`SelfIntersections.check` found in one mesh."""

    pairs: np.ndarray  # (P, 2) int64 newly intersecting skin face pairs
    depth: float  # deepest penetration among them, metres (0 when none)
    min_depth: float  # the depth that counts as visible, metres

    @property
    def visible(self) -> bool:
        return self.depth >= self.min_depth


class SelfIntersections:
    """Finds visible skin self-intersections of meshes that share ``faces`` with ``rest``.

    ``checked``: (F,) bool of the faces to look from (default: all skin faces). Their partners
    may be any skin face. A model leaves out faces that never move (two still faces keep their
    rest relation) and parts too small to see at its framing.
    """

    def __init__(self, faces, rest_vertices, checked=None, min_depth: float = 0.0):
        self.faces = np.asarray(faces, dtype=np.int64)
        self.min_depth = float(min_depth)
        num_vertices = len(rest_vertices)
        self.skin = largest_piece(self.faces, num_vertices)
        query = self.skin.copy()
        if checked is not None:
            query &= np.asarray(checked, dtype=bool)
        self._query = np.flatnonzero(query).astype(np.int32)
        self._queried = query.astype(np.int32)
        self._indices = np.ascontiguousarray(self.faces.reshape(-1), dtype=np.int32)
        self._mesh = None  # the warp mesh, refitted for each new shape
        self._allowed = np.zeros(0, dtype=np.int64)
        rest = self.pairs(rest_vertices)
        self.rest_pairs = len(rest)
        if len(rest):
            keys = []
            for near_a, near_b in zip(_face_rings(self.faces, rest[:, 0], RINGS),
                                      _face_rings(self.faces, rest[:, 1], RINGS)):
                a, b = np.meshgrid(near_a, near_b, indexing="ij")
                keys.append(self._keys(np.stack([a.ravel(), b.ravel()], axis=1)))
            self._allowed = np.unique(np.concatenate(keys))

    def _keys(self, pairs: np.ndarray) -> np.ndarray:
        low, high = np.minimum(pairs[:, 0], pairs[:, 1]), np.maximum(pairs[:, 0], pairs[:, 1])
        return low * len(self.faces) + high

    def pairs(self, vertices) -> np.ndarray:
        """(V, 3) vertices -> (P, 2) int64 intersecting skin face pairs (each once, low first)."""
        wp, kernel = _kernel()
        vertices = np.ascontiguousarray(vertices, dtype=np.float32)
        if not len(self._query):
            return np.zeros((0, 2), dtype=np.int64)
        if self._mesh is None:
            self._mesh = wp.Mesh(points=wp.array(vertices, dtype=wp.vec3),
                                 indices=wp.array(self._indices, dtype=wp.int32))
            self._buffers = (wp.array(self._query, dtype=wp.int32),
                             wp.array(self._queried, dtype=wp.int32),
                             wp.zeros((MAX_PAIRS, 2), dtype=wp.int32),
                             wp.zeros(1, dtype=wp.int32))
        else:
            self._mesh.points.assign(vertices)
            self._mesh.refit()
        queries, queried, out, count = self._buffers
        count.zero_()
        wp.launch(kernel, dim=len(self._query),
                  inputs=[self._mesh.id, queries, queried, out, count])
        found = min(int(count.numpy()[0]), MAX_PAIRS)
        pairs = out.numpy()[:found].astype(np.int64)
        pairs = pairs[self.skin[pairs[:, 0]] & self.skin[pairs[:, 1]]]
        pairs = np.unique(np.sort(pairs, axis=1), axis=0)
        triangles = vertices[self.faces[pairs]]  # (P, 2, 3, 3)
        return pairs[triangles_intersect(triangles[:, 0], triangles[:, 1])]

    def check(self, vertices) -> Intersections:
        """(V, 3) vertices -> the skin intersections the rest mesh does not have."""
        vertices = np.asarray(vertices, dtype=np.float32)
        pairs = self.pairs(vertices)
        pairs = pairs[~np.isin(self._keys(pairs), self._allowed)]
        triangles = vertices[self.faces[pairs]]
        depth = float(penetration(triangles[:, 0], triangles[:, 1]).max()) if len(pairs) else 0.0
        return Intersections(pairs, depth, self.min_depth)

    def visible(self, vertices) -> np.ndarray:
        """(B, V, 3) vertices -> (B,) bool: the mesh has a visible self-intersection."""
        return np.array([self.check(v).visible for v in np.asarray(vertices)], dtype=bool)


def movable_vertices(model) -> np.ndarray:
    """(V,) bool: the vertices some coefficient of ``model`` moves (each set to either end)."""
    import torch

    c = model.default_coefficients()
    ranges = model.ranges
    rows = [c]
    for i in range(len(c)):
        for end in (0, 1):
            row = c.clone()
            row[i] = ranges[i, end]
            rows.append(row)
    with torch.no_grad():
        vertices = torch.cat([model(chunk) for chunk in torch.stack(rows).split(64)])
    return ((vertices - vertices[:1]).abs().amax(dim=(0, 2)) > 1e-6).cpu().numpy()


@functools.lru_cache(maxsize=8)
def _for_model(model) -> SelfIntersections:
    import torch

    from semantify.pictures.renderers import framing_for

    with torch.no_grad():
        rest = model(model.default_coefficients()[None])[0].cpu().numpy()
    pixel = 2 * framing_for(model).radius / RENDER_PIXELS
    faces = model.faces.cpu().numpy()
    checked = movable_vertices(model)[faces].any(axis=1)
    region = model.self_intersection_faces()
    if region is not None:
        checked &= region
    return SelfIntersections(faces, rest, checked, min_depth=pixel)


def detector_for(model) -> SelfIntersections:
    """The :class:`SelfIntersections` of ``model`` (built once per model and process)."""
    return _for_model(model)
