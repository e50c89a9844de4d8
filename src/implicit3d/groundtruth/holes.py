"""Caps over the mesh's narrow holes, for the rays of the `filled` sign.

A hole is a loop of boundary edges (edges of a single face, vertices merged by position).
The seal closes openings narrower than itself for paths; rays must not slip through them
either, or a point inside a thin part would see out through a missing triangle. So each
loop narrower than the seal gets a cone cap (a fan from the loop's centroid) that only
the rays see: caps take no part in distances.
"""

from __future__ import annotations

import numpy as np

from .winding import geometric_ids


def with_narrow_holes_capped(vertices: np.ndarray, faces: np.ndarray, width: float) -> tuple[np.ndarray, np.ndarray]:
    """The mesh (vertices merged by position) plus a cone cap over every hole whose diameter
    is below `width`: vertices, then faces (the mesh's first, in order)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    positions, ids = geometric_ids(np.asarray(vertices, dtype=np.float64))
    merged = ids[np.asarray(faces, dtype=np.int64)]
    edges = np.sort(merged[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2), axis=1)
    edges = edges[edges[:, 0] != edges[:, 1]]
    key, count = np.unique(edges[:, 0] * len(positions) + edges[:, 1], return_counts=True)  # one int per edge: fast
    boundary = np.column_stack(np.divmod(key[count == 1], len(positions)))
    if not len(boundary):
        return positions, merged
    n = len(positions)
    graph = coo_matrix((np.ones(len(boundary)), (boundary[:, 0], boundary[:, 1])), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    loop = component[boundary[:, 0]]
    _, loop = np.unique(loop, return_inverse=True)
    loops = int(loop.max()) + 1
    ends = np.concatenate([boundary[:, 0], boundary[:, 1]])
    owner = np.concatenate([loop, loop])
    size = np.bincount(owner, minlength=loops)
    centroid = np.stack([np.bincount(owner, weights=positions[ends, k], minlength=loops) for k in range(3)], axis=1) / size[:, None]
    radius = np.zeros(loops)
    np.maximum.at(radius, owner, np.linalg.norm(positions[ends] - centroid[owner], axis=1))
    narrow = 2.0 * radius < width
    keep = narrow[loop]
    center_index = n + np.cumsum(narrow) - 1
    cap_faces = np.column_stack([center_index[loop[keep]], boundary[keep]])
    return np.vstack([positions, centroid[narrow]]), np.vstack([merged, cap_faces]).astype(np.int64)
