"""Exact unsigned distance to a triangle mesh: closest face, closest point, distance.

The search runs on a compiled bounding-volume hierarchy in float64 (`bvh`), large batches in as
many threads as the ground truth may use (`threads`). (fcpw's float32 BVH was tried: on 0.13 % of
one reference mesh's points it returned a face up to 4e-4 farther than the closest, which the
winding number's propagation over surface-free balls cannot tolerate.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .threads import map_rows

# Batches are split over threads only in parts of at least this many points.
THREAD_BATCH = 50000
# Coarse grid of exact distances that bounds the distance elsewhere (DistanceBounds): cells per axis.
BOUND_CELLS = 32


@dataclass
class Closest:
    """Per point: exact distance, index of the closest face, closest point (inf / -1 / nan beyond a
    bound), and whether another face is as close up to rounding (`bvh`: then the face is arbitrary)."""

    distance: np.ndarray
    face: np.ndarray
    point: np.ndarray
    tied: np.ndarray

    def direction(self, points: np.ndarray) -> np.ndarray:
        """Unit vectors from the closest surface point to the points (zero on the surface)."""
        offset = np.asarray(points, dtype=np.float64) - self.point
        length = np.linalg.norm(offset, axis=1, keepdims=True)
        return np.divide(offset, length, out=np.zeros_like(offset), where=length > 0)


class Surface:
    """Closest-point queries on one triangle mesh."""

    def __init__(self, vertices: np.ndarray, faces: np.ndarray):
        self.vertices = np.ascontiguousarray(vertices, dtype=np.float64)
        self.faces = np.ascontiguousarray(faces, dtype=np.int64)
        self.empty = len(self.faces) == 0
        if self.empty:
            return
        from .bvh import TriangleTree
        from .winding import split_length, split_long_edges_with_parents

        # Long thin triangles have huge boxes that defeat a tree (mesh 15 of the reference set, in
        # libigl's tree: 45 s instead of 15 s per 250k points); the tree holds their pieces, which
        # map back to the faces.
        tri = self.vertices[self.faces]
        self._tree = TriangleTree(
            self.vertices, self.faces, degenerate(tri[:, 0], tri[:, 1], tri[:, 2]),
            *split_long_edges_with_parents(self.vertices, self.faces, split_length(self.vertices, self.faces)),
        )

    def closest(self, points: np.ndarray, bound: np.ndarray | float | None = None) -> Closest:
        """Closest face and point of every point. With a `bound`, points farther than it from
        the surface come back as not found (inf distance, face -1)."""
        points = np.ascontiguousarray(np.asarray(points, dtype=np.float64).reshape(-1, 3))
        if self.empty or len(points) == 0:
            return Closest(np.full(len(points), np.inf), np.full(len(points), -1, dtype=np.int64), np.full(points.shape, np.nan), np.zeros(len(points), dtype=bool))
        limit = np.broadcast_to(np.inf if bound is None else np.asarray(bound, dtype=np.float64), (len(points),))
        # The compiled search releases the GIL.
        found = map_rows(lambda rows: self._tree.closest(points[rows], limit[rows]), len(points), THREAD_BATCH)
        face, closest, distance, tied = (np.concatenate(column) for column in zip(*found, strict=True))
        if bound is not None:
            beyond = distance > limit
            distance[beyond], face[beyond], closest[beyond], tied[beyond] = np.inf, -1, np.nan, False
        return Closest(distance, face, closest, tied)

    def distance(self, points: np.ndarray, bound: np.ndarray | float | None = None) -> np.ndarray:
        return self.closest(points, bound).distance


def degenerate(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Triangles of (numerically) zero area."""
    ab, ac = b - a, c - a
    return np.linalg.norm(np.cross(ab, ac), axis=1) <= 1e-14 * np.maximum(_dot(ab, ab) + _dot(ac, ac), 1e-300)


def _dot(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", u, v)


class DistanceBounds:
    """Exact distances on a coarse grid, which bound the distance anywhere else: for any
    point p and node g, d(p) >= d(g) - |p - g| (distance is 1-Lipschitz)."""

    def __init__(self, surface: Surface, lo: np.ndarray, hi: np.ndarray, cells: int = BOUND_CELLS):
        self.lo = np.asarray(lo, dtype=np.float64)
        self.step = float(np.max(np.asarray(hi) - self.lo)) / cells
        self.shape = np.ceil((np.asarray(hi) - self.lo) / self.step).astype(np.int64) + 1
        axes = [self.lo[k] + self.step * np.arange(self.shape[k]) for k in range(3)]
        nodes = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
        self.values = surface.distance(nodes).reshape(tuple(self.shape))
