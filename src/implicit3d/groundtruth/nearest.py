"""Closest-face search on a triangle mesh, compiled (numba), in float64, over a `bvh` tree.

Each query starts from the closest face of the query before it. Queries come in Morton order
(`GroundTruth.sdf`), so that face is nearby, and its distance already prunes most of the tree.
A tree's box is skipped only when it is farther than the best distance so far by more than a
rounding margin, so every face within that margin of the closest is tested. The answer is the
smallest squared distance; among equal ones the lexicographically smallest closest point, then
the lowest face index: the same whatever came before a point, so a split into threads or another
batch of points (the training pool drawn alone and the same rows among all splits) gives it bit
for bit, and the point does not depend on the order of the faces.

The search also returns the faces within the margin of the closest (the *tie set*): which of
them it names as the closest is an accident of indexing and rounding, so what depends on the
face (the `filled` sign's face-side rule) looks at all of them. Up to `TIES` are kept; a point
with more (a vertex shared by many faces) says so.

Against libigl's AABB tree, the distances agree to 2.2e-16 on 1.5M points of each of 12 reference
meshes (`benchmarks/pool_speed.py --baseline REV` compares whole draws with another revision's).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .bvh import piece_tree

# A box is pruned when its squared distance exceeds the best one by more than this (relative,
# absolute) margin: larger than the rounding of either, so no face that ties is missed.
PRUNE_RELATIVE, PRUNE_ABSOLUTE = 1e-12, 1e-30
# Faces of a tie set kept per point; a larger set is reported as a count of -1.
TIES = 4


class TriangleTree:
    """Closest face, point and distance of points to the faces `faces` of `vertices` (`flat`:
    which faces have no area). The tree holds the faces split into pieces where they are long
    (`piece_tree`); distances are measured to the faces themselves."""

    def __init__(self, vertices: np.ndarray, faces: np.ndarray, flat: np.ndarray):
        self.vertices = np.ascontiguousarray(vertices, dtype=np.float64)
        self.faces = np.ascontiguousarray(faces, dtype=np.int64)
        self.flat = np.ascontiguousarray(flat, dtype=np.bool_)
        self.nodes = piece_tree(self.vertices, self.faces)  # shared with the rays (`Rays`)

    def closest(self, points: np.ndarray, limit: np.ndarray, among: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
        """Per (N, 3) point: closest face (-1 where nothing lies within `limit`), point, distance,
        and the tie set: its faces (N, TIES; -1 pads) and their count (-1: more than TIES).
        `among` (per face): search only these faces (the same answers as a tree of them alone)."""
        points = np.ascontiguousarray(points, dtype=np.float64)
        face = np.empty(len(points), dtype=np.int64)
        point = np.empty((len(points), 3))
        distance = np.empty(len(points))
        ties = np.empty((len(points), TIES), dtype=np.int32)
        tie_count = np.empty(len(points), dtype=np.int8)
        limit2 = np.ascontiguousarray(np.broadcast_to(np.square(np.asarray(limit, dtype=np.float64)), (len(points),)))
        usable = np.ones(len(self.faces), dtype=np.bool_) if among is None else np.ascontiguousarray(among, dtype=np.bool_)
        tree = (self.vertices, self.faces, self.flat, usable, *self.nodes)
        _closest(points, limit2, tree, face, point, distance, ties, tie_count)
        return face, point, distance, ties, tie_count


@njit(cache=True, nogil=True, inline="always")
def _box_distance2(x, y, z, box, node):
    gx = max(box[node, 0] - x, 0.0, x - box[node, 3])
    gy = max(box[node, 1] - y, 0.0, y - box[node, 4])
    gz = max(box[node, 2] - z, 0.0, z - box[node, 5])
    return gx * gx + gy * gy + gz * gz


@njit(cache=True, nogil=True, inline="always")
def _on_segment(x, y, z, ax, ay, az, bx, by, bz):
    ex, ey, ez = bx - ax, by - ay, bz - az
    length2 = ex * ex + ey * ey + ez * ez
    t = 0.0
    if length2 > 0:
        t = min(max(((x - ax) * ex + (y - ay) * ey + (z - az) * ez) / length2, 0.0), 1.0)
    return _step(ax, ay, az, ex, ey, ez, t)


@njit(cache=True, nogil=True, inline="always")
def _step(ax, ay, az, ex, ey, ez, t):
    """The point a + t e."""
    return ax + t * ex, ay + t * ey, az + t * ez


@njit(cache=True, nogil=True, inline="always")
def _along_edges(abx, aby, abz, acx, acy, acz, ox, oy, oz):
    """The offset (ox, oy, oz) from a corner projected on the edges ab and ac."""
    return abx * ox + aby * oy + abz * oz, acx * ox + acy * oy + acz * oz


@njit(cache=True, nogil=True, inline="always")
def _on_triangle(x, y, z, vertices, faces, flat, f):
    """Closest point of face f to (x, y, z): Ericson's Voronoi-region test, as
    `distance.closest_on_triangles`; a degenerate face takes the closest of its three edges."""
    a, b, c = faces[f, 0], faces[f, 1], faces[f, 2]
    ax, ay, az = vertices[a, 0], vertices[a, 1], vertices[a, 2]
    bx, by, bz = vertices[b, 0], vertices[b, 1], vertices[b, 2]
    cx, cy, cz = vertices[c, 0], vertices[c, 1], vertices[c, 2]
    if flat[f]:
        best_x, best_y, best_z, best = 0.0, 0.0, 0.0, np.inf
        for edge in range(3):
            if edge == 0:
                qx, qy, qz = _on_segment(x, y, z, ax, ay, az, bx, by, bz)
            elif edge == 1:
                qx, qy, qz = _on_segment(x, y, z, bx, by, bz, cx, cy, cz)
            else:
                qx, qy, qz = _on_segment(x, y, z, cx, cy, cz, ax, ay, az)
            d2 = (qx - x) ** 2 + (qy - y) ** 2 + (qz - z) ** 2
            if d2 < best:
                best_x, best_y, best_z, best = qx, qy, qz, d2
        return best_x, best_y, best_z
    abx, aby, abz = bx - ax, by - ay, bz - az
    acx, acy, acz = cx - ax, cy - ay, cz - az
    d1, d2 = _along_edges(abx, aby, abz, acx, acy, acz, x - ax, y - ay, z - az)
    if d1 <= 0 and d2 <= 0:
        return ax, ay, az
    d3, d4 = _along_edges(abx, aby, abz, acx, acy, acz, x - bx, y - by, z - bz)
    if d3 >= 0 and d4 <= d3:
        return bx, by, bz
    vc = d1 * d4 - d3 * d2
    if vc <= 0 and d1 >= 0 and d3 <= 0:  # on edge ab
        return _step(ax, ay, az, abx, aby, abz, d1 / (d1 - d3))
    d5, d6 = _along_edges(abx, aby, abz, acx, acy, acz, x - cx, y - cy, z - cz)
    if d6 >= 0 and d5 <= d6:
        return cx, cy, cz
    vb = d5 * d2 - d1 * d6
    if vb <= 0 and d2 >= 0 and d6 <= 0:  # on edge ac
        return _step(ax, ay, az, acx, acy, acz, d2 / (d2 - d6))
    va = d3 * d6 - d5 * d4
    if va <= 0 and d4 - d3 >= 0 and d5 - d6 >= 0:  # on edge bc
        return _step(bx, by, bz, cx - bx, cy - by, cz - bz, (d4 - d3) / ((d4 - d3) + (d5 - d6)))
    total = va + vb + vc
    v, w = vb / total, vc / total
    return ax + abx * v + acx * w, ay + aby * v + acy * w, az + abz * v + acz * w


@njit(cache=True, nogil=True, inline="always")
def _before(d2, x, y, z, f, best, bx, by, bz, best_face):
    """Whether a candidate (squared distance, closest point, face) comes before the best so far:
    nearer, or as near with a lexicographically smaller point, or the same point and a lower face."""
    if d2 != best:
        return d2 < best
    if best_face < 0:
        return True
    if x != bx:
        return x < bx
    if y != by:
        return y < by
    if z != bz:
        return z < bz
    return f < best_face


@njit(cache=True, nogil=True)
def _closest(points, limit2, tree, out_face, out_point, out_distance, out_ties, out_tie_count):
    vertices, faces, flat, usable, box, child, first, count, leaf_face, leaf_box = tree
    stack = np.empty(128, np.int64)
    stack_distance2 = np.empty(128)  # each node's box distance, pushed with it
    tie_face = np.empty(TIES, np.int64)  # faces within the margin of the best so far
    tie_distance2 = np.empty(TIES)
    last_face = -1  # the closest face of the last point answered
    for i in range(points.shape[0]):
        x, y, z = points[i, 0], points[i, 1], points[i, 2]
        best, best_face, best_x, best_y, best_z = limit2[i], -1, np.nan, np.nan, np.nan
        kept, lost = 0, np.inf  # tie faces kept; the nearest one that did not fit
        if last_face >= 0 and usable[last_face]:  # a first bound from the last point's face
            qx, qy, qz = _on_triangle(x, y, z, vertices, faces, flat, last_face)
            d2 = (qx - x) ** 2 + (qy - y) ** 2 + (qz - z) ** 2
            if d2 <= best:
                best, best_face, best_x, best_y, best_z = d2, last_face, qx, qy, qz
                tie_face[0], tie_distance2[0], kept = last_face, d2, 1
        stack[0], stack_distance2[0] = 0, 0.0
        top = 1
        while top:
            top -= 1
            if stack_distance2[top] > _margin(best):
                continue
            node = stack[top]
            left = child[node]
            if left < 0:
                for j in range(first[node], first[node] + count[node]):
                    f = leaf_face[j]
                    if f == best_face or not usable[f] or _box_distance2(x, y, z, leaf_box, j) > _margin(best):
                        continue
                    qx, qy, qz = _on_triangle(x, y, z, vertices, faces, flat, f)
                    d2 = (qx - x) ** 2 + (qy - y) ** 2 + (qz - z) ** 2
                    if _before(d2, qx, qy, qz, f, best, best_x, best_y, best_z, best_face):
                        best, best_face, best_x, best_y, best_z = d2, f, qx, qy, qz
                    if d2 <= _margin(best):
                        kept, lost = _keep_tie(tie_face, tie_distance2, kept, lost, f, d2, _margin(best))
                continue
            keep = _margin(best)
            d_left, d_right = _box_distance2(x, y, z, box, left), _box_distance2(x, y, z, box, left + 1)
            near, far, d_near, d_far = (left, left + 1, d_left, d_right) if d_left <= d_right else (left + 1, left, d_right, d_left)
            if d_far <= keep:  # the nearer child is pushed last: searched first
                stack[top], stack_distance2[top] = far, d_far
                top += 1
            if d_near <= keep:
                stack[top], stack_distance2[top] = near, d_near
                top += 1
        out_face[i] = best_face
        out_point[i, 0], out_point[i, 1], out_point[i, 2] = best_x, best_y, best_z  # nan when none was found
        out_distance[i] = np.sqrt(best) if best_face >= 0 else np.inf
        # Every face within the final margin was tested (boxes are pruned only beyond it), and
        # the kept ones are the nearest tested: the tie set is exact, or too large (lost within).
        margin = _margin(best)
        out_ties[i, :] = -1
        n = 0
        for k in range(kept):
            if tie_distance2[k] <= margin and best_face >= 0:
                out_ties[i, n] = tie_face[k]
                n += 1
        out_tie_count[i] = -1 if lost <= margin and best_face >= 0 else n
        if best_face >= 0:
            last_face = best_face


@njit(cache=True, nogil=True, inline="always")
def _margin(best):
    """Squared distances up to this tie with `best` (and boxes beyond it are pruned)."""
    return best * (1.0 + PRUNE_RELATIVE) + PRUNE_ABSOLUTE


@njit(cache=True, nogil=True)
def _keep_tie(tie_face, tie_distance2, kept, lost, f, d2, margin):
    """Add face f (at squared distance d2, within the margin) to the tie faces; returns how many
    are kept and the nearest one that did not fit. A face already kept (another piece of it) is
    not added again; when all slots are taken, those beyond the margin go first, then the
    farthest (ties by face index) makes room or stays out."""
    for k in range(kept):
        if tie_face[k] == f:
            return kept, lost
    if kept == TIES:
        n = 0
        for k in range(kept):
            if tie_distance2[k] <= margin:  # beyond it now, beyond it for good: never a tie
                tie_face[n], tie_distance2[n] = tie_face[k], tie_distance2[k]
                n += 1
        kept = n
    if kept < TIES:
        tie_face[kept], tie_distance2[kept] = f, d2
        return kept + 1, lost
    far = 0
    for k in range(1, kept):
        if tie_distance2[k] > tie_distance2[far] or (tie_distance2[k] == tie_distance2[far] and tie_face[k] > tie_face[far]):
            far = k
    if d2 < tie_distance2[far] or (d2 == tie_distance2[far] and f < tie_face[far]):
        lost = min(lost, tie_distance2[far])
        tie_face[far], tie_distance2[far] = f, d2
    else:
        lost = min(lost, d2)
    return kept, lost
