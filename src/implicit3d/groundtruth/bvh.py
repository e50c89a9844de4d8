"""Bounding-volume hierarchies over a mesh's faces, built in compiled loops (numba), in float64:
what the closest-face search (`nearest`) and the rays (`rays`) traverse.

Long thin faces are split into pieces first (their boxes would defeat a tree); each leaf entry
names the face its piece comes from, and the queries test the faces themselves. Splits follow
the surface area heuristic, which roughly halves the boxes a query visits against median splits.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit

from .threads import threads

# Primitives per leaf.
LEAF_SIZE = 4
# The tree's splits: binned surface area heuristic, then the median below this depth (the
# search stacks hold 128 nodes: a path of at most SAH_DEPTH + log2(primitives) levels).
SAH_BINS = 16
SAH_DEPTH = 64
# Primitives from which the root's two subtrees are built in two threads.
PARALLEL_BUILD = 20000


def face_pieces(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The faces split into pieces where they are long: long thin triangles have huge boxes that
    defeat a tree (mesh 15 of the reference set: 45 s instead of 15 s per 250k points in libigl's
    tree). Returns each piece's box (lo, hi) and the face it comes from."""
    from .winding import split_length, split_long_edges_with_parents

    piece_vertices, piece_faces, parent = split_long_edges_with_parents(vertices, faces, split_length(vertices, faces))
    corners = piece_vertices[piece_faces]
    return corners.min(axis=1), corners.max(axis=1), np.asarray(parent, dtype=np.int64)


def piece_tree(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, ...]:
    """A tree over the faces' pieces (`face_pieces`). Returns per node its box, first child,
    first leaf entry and count; per leaf entry the face its piece comes from and the piece's box."""
    lo, hi, parent = face_pieces(vertices, faces)
    box, child, first, count, order = build(lo, hi, LEAF_SIZE)
    leaf_box = np.ascontiguousarray(np.hstack([lo[order], hi[order]]))
    return outward_float32(box), child, first, count, np.ascontiguousarray(parent[order]), outward_float32(leaf_box)


def outward_float32(box: np.ndarray) -> np.ndarray:
    """The boxes (lo, hi: 6 per row) in float32, rounded outward so they still hold what they
    held: half the memory a query walks through, and the same answers (boxes only prune)."""
    out = box.astype(np.float32)
    lo, hi = out[:, :3], out[:, 3:]
    lo[:] = np.where(lo > box[:, :3], np.nextafter(lo, np.float32(-np.inf)), lo)
    hi[:] = np.where(hi < box[:, 3:], np.nextafter(hi, np.float32(np.inf)), hi)
    return out


def build(lo: np.ndarray, hi: np.ndarray, leaf_size: int) -> tuple[np.ndarray, ...]:
    """Tree over primitive boxes lo, hi (n, 3), split by the surface area heuristic over
    `SAH_BINS` bins of the centroids (Wald 2007), by the median below `SAH_DEPTH` levels (which
    bounds the depth for the search stacks). Returns per node its box (lo, hi: 6), first child
    (children are adjacent; -1 for a leaf), first primitive and count (in `order`), and `order`.

    With two threads or more and `PARALLEL_BUILD` primitives, the root's two subtrees are built
    in two threads, then numbered as one loop numbers them (depth first, the left subtree first):
    the same arrays, sooner."""
    n = lo.shape[0]
    center = 0.5 * (lo + hi)
    order = np.arange(n)
    if n < PARALLEL_BUILD or threads() < 2:
        return (*_build(lo, hi, center, order, 0, n, 0, leaf_size, -1), order)
    root = _build(lo, hi, center, order, 0, n, 0, leaf_size, 1)  # the root split alone
    if root[1][0] < 0:  # a leaf
        return (*root, order)
    with ThreadPoolExecutor(2) as pool:
        left, right = pool.map(lambda c: _build(lo, hi, center, order, root[2][c], root[3][c], 1, leaf_size, -1), (1, 2))
    # The subtrees' roots are nodes 1 and 2; their other nodes (local ids k >= 1) follow, the
    # left subtree's from 3 on, then the right's: their children's ids shift by as much.
    left = (left[0], np.where(left[1] < 0, -1, left[1] + 2), *left[2:])
    right = (right[0], np.where(right[1] < 0, -1, right[1] + len(left[0]) + 1), *right[2:])
    box, child, first, count = (np.concatenate([root[k][:1], left[k][:1], right[k][:1], left[k][1:], right[k][1:]]) for k in range(4))
    return box, child, first, count, order


@njit(cache=True, nogil=True)
def _build(lo, hi, center, order, start0, size0, depth0, leaf_size, splits):
    """The subtree over order[start0:start0 + size0] (reordered in place), its root at depth
    `depth0`, numbered from 0; at most `splits` nodes split (-1: no limit)."""
    capacity = max(2 * size0, 1)
    box = np.empty((capacity, 6))
    child = np.full(capacity, -1, np.int64)
    first = np.zeros(capacity, np.int64)
    count = np.zeros(capacity, np.int64)
    depth = np.zeros(capacity, np.int64)
    first[0], count[0], depth[0] = start0, size0, depth0
    nodes = 1
    stack = np.empty(256, np.int64)
    stack[0] = 0
    top = 1
    bin_count = np.zeros(SAH_BINS, np.int64)
    bin_box = np.empty((SAH_BINS, 6))
    right_area = np.empty(SAH_BINS)
    side = np.empty(size0, np.bool_)
    while top:
        top -= 1
        node = stack[top]
        start, size = first[node], count[node]
        for k in range(3):
            low, high = np.inf, -np.inf
            for i in range(start, start + size):
                low = min(low, lo[order[i], k])
                high = max(high, hi[order[i], k])
            box[node, k], box[node, 3 + k] = low, high
        if size <= leaf_size or splits == 0:
            continue
        splits -= 1
        c_lo, c_hi = np.empty(3), np.empty(3)
        for k in range(3):
            low, high = np.inf, -np.inf
            for i in range(start, start + size):
                low = min(low, center[order[i], k])
                high = max(high, center[order[i], k])
            c_lo[k], c_hi[k] = low, high
        best_cost, best_axis, best_bin = np.inf, -1, -1
        if depth[node] < SAH_DEPTH:
            for k in range(3):
                extent = c_hi[k] - c_lo[k]
                if extent <= 0.0:
                    continue
                bin_count[:] = 0
                bin_box[:, :3], bin_box[:, 3:] = np.inf, -np.inf
                for i in range(start, start + size):
                    b = _bin(center[order[i], k], c_lo[k], extent)
                    bin_count[b] += 1
                    for m in range(3):
                        bin_box[b, m] = min(bin_box[b, m], lo[order[i], m])
                        bin_box[b, 3 + m] = max(bin_box[b, 3 + m], hi[order[i], m])
                grow = np.array([np.inf, np.inf, np.inf, -np.inf, -np.inf, -np.inf])
                for b in range(SAH_BINS - 1, 0, -1):  # right side of a split before bin b
                    _grow(grow, bin_box, b)
                    right_area[b] = _half_area(grow)
                grow = np.array([np.inf, np.inf, np.inf, -np.inf, -np.inf, -np.inf])
                left = 0
                for b in range(SAH_BINS - 1):  # split after bin b
                    _grow(grow, bin_box, b)
                    left += bin_count[b]
                    if left == 0 or left == size:
                        continue
                    cost = _half_area(grow) * left + right_area[b + 1] * (size - left)
                    if cost < best_cost:
                        best_cost, best_axis, best_bin = cost, k, b
        if best_axis >= 0:
            half = 0
            for i in range(start, start + size):
                side[i - start] = _bin(center[order[i], best_axis], c_lo[best_axis], c_hi[best_axis] - c_lo[best_axis]) <= best_bin
                half += side[i - start]
            segment = order[start : start + size].copy()
            order[start : start + half] = segment[side[:size]]
            order[start + half : start + size] = segment[~side[:size]]
        else:  # the median of the centroids along their longest extent
            axis = np.argmax(c_hi - c_lo)
            keys = np.empty(size)
            for i in range(size):
                keys[i] = center[order[start + i], axis]
            order[start : start + size] = order[start : start + size][np.argsort(keys, kind="mergesort")]
            half = size // 2
        left = nodes
        nodes += 2
        child[node] = left
        first[left], count[left] = start, half
        first[left + 1], count[left + 1] = start + half, size - half
        depth[left] = depth[left + 1] = depth[node] + 1
        stack[top], stack[top + 1] = left + 1, left
        top += 2
    return box[:nodes].copy(), child[:nodes].copy(), first[:nodes].copy(), count[:nodes].copy()


@njit(cache=True, nogil=True, inline="always")
def _bin(value, low, extent):
    return min(int((value - low) * (SAH_BINS / extent)), SAH_BINS - 1)


@njit(cache=True, nogil=True, inline="always")
def _grow(grow, bin_box, b):
    for m in range(3):
        grow[m] = min(grow[m], bin_box[b, m])
        grow[3 + m] = max(grow[3 + m], bin_box[b, 3 + m])


@njit(cache=True, nogil=True, inline="always")
def _half_area(b):
    if b[0] > b[3]:
        return 0.0
    dx, dy, dz = b[3] - b[0], b[4] - b[1], b[5] - b[2]
    return dx * dy + dy * dz + dz * dx
