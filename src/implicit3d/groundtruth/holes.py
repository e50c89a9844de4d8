"""Caps over the mesh's narrow holes, for the rays of the `filled` sign.

A hole is a loop of boundary edges (edges of a single face, vertices merged by position).
The seal closes openings narrower than itself for paths; rays must not slip through them
either, or a point inside a thin part would see out through a missing triangle. So each
loop narrower than the seal gets a cone cap (a fan from the loop's centroid) that only
the rays see: caps take no part in distances.

Holes that touch at a vertex (common where many triangles are missing) share boundary
vertices; the boundary is therefore split into cycles, each capped on its own, instead
of one cap over the whole connected tangle.
"""

from __future__ import annotations

import numpy as np

from .winding import geometric_ids


def with_narrow_holes_capped(vertices: np.ndarray, faces: np.ndarray, width: float) -> tuple[np.ndarray, np.ndarray]:
    """The mesh (vertices merged by position) plus a cone cap over every hole whose diameter
    is below `width`: vertices, then faces (the mesh's first, in order)."""
    positions, ids = geometric_ids(np.asarray(vertices, dtype=np.float64))
    merged = ids[np.asarray(faces, dtype=np.int64)]
    edges = np.sort(merged[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2), axis=1)
    edges = edges[edges[:, 0] != edges[:, 1]]
    key, count = np.unique(edges[:, 0] * len(positions) + edges[:, 1], return_counts=True)  # one int per edge: fast
    boundary = np.column_stack(np.divmod(key[count == 1], len(positions)))
    if not len(boundary):
        return positions, merged
    centers, caps = [], []
    for cycle in _cycles(boundary, positions):
        ends = boundary[cycle]
        corner = positions[ends.ravel()]
        centroid = corner.mean(axis=0)
        if 2.0 * np.linalg.norm(corner - centroid, axis=1).max() < width:
            caps.append(np.column_stack([np.full(len(ends), len(positions) + len(centers)), ends]))
            centers.append(centroid)
    if not caps:
        return positions, merged
    return np.vstack([positions, centers]), np.vstack([merged, *caps]).astype(np.int64)


def _cycles(edges: np.ndarray, positions: np.ndarray) -> list[np.ndarray]:
    """Split boundary edges into closed walks (an edge path that returns to its start), each
    edge used once. Where holes touch, a walk turns toward its start, so that it closes
    around one hole instead of wandering through the tangle; what cannot close (an open
    chain) comes back as a walk of its own."""
    incident = np.concatenate([edges[:, 0], edges[:, 1]])
    order = np.argsort(incident, kind="stable")
    starts = np.searchsorted(incident[order], np.arange(incident.max() + 2))
    owner = order % len(edges)  # the edge of each incidence, grouped by vertex
    used = np.zeros(len(edges), dtype=bool)
    cycles = []
    for first in range(len(edges)):
        if used[first]:
            continue
        used[first] = True
        walk, start, vertex = [first], edges[first, 0], edges[first, 1]
        while vertex != start:
            candidates = [e for e in owner[starts[vertex] : starts[vertex + 1]] if not used[e]]
            if not candidates:
                break  # an open chain: nothing left to walk on
            ends = [edges[e, 1] if edges[e, 0] == vertex else edges[e, 0] for e in candidates]
            pick = int(np.argmin([np.sum((positions[v] - positions[start]) ** 2) for v in ends]))
            step = candidates[pick]
            used[step] = True
            walk.append(step)
            vertex = ends[pick]
        cycles.append(np.array(walk))
    return cycles
