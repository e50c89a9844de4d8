"""Fewer faces for a mesh: quadric decimation (fast-simplification), or vertex clustering, which
is cruder but fast and never fails. The normalize stage (normalize.decimate), the renderings and the
viewer all simplify through `simplify`."""

from __future__ import annotations

import logging
import math

import numpy as np
import trimesh

log = logging.getLogger("implicit3d")
METHODS = ("quadric", "cluster")


class SimplifyError(Exception):
    """Quadric decimation could not reach the face count (and no fallback was allowed)."""


def simplify(mesh: trimesh.Trimesh, max_faces: int, method: str = "quadric", fallback: bool = True) -> trimesh.Trimesh:
    """At most `max_faces` faces (`mesh` itself when it has no more). `quadric` keeps the shape best;
    where it fails or overshoots, vertex clustering takes over unless `fallback` is off, in which
    case ImportError (fast-simplification missing) or SimplifyError is raised."""
    if method not in METHODS:
        raise ValueError(f"unknown simplification '{method}' (choose from {', '.join(METHODS)})")
    if len(mesh.faces) <= max_faces:
        return mesh
    if method == "quadric":
        try:
            small = mesh.simplify_quadric_decimation(face_count=int(max_faces))
            if 0 < len(small.faces) <= max_faces:
                return small
            problem = f"quadric decimation left {len(small.faces)} faces (target {max_faces})"
        except ImportError:
            if not fallback:
                raise
            problem = "quadric decimation needs fast-simplification"
        except Exception as exc:  # a mesh fast-simplification cannot take
            problem = f"quadric decimation failed ({exc})"
        if not fallback:
            raise SimplifyError(problem)
        log.warning("%s: vertex clustering instead", problem)
    return _cluster(mesh, max_faces)


def _cluster(mesh: trimesh.Trimesh, max_faces: int) -> trimesh.Trimesh:
    """Vertex clustering: vertices in one cell of a grid merge into their mean and collapsed faces
    go. Unlike a random subset of faces it leaves no holes. The cell grows until the faces fit."""
    vertices, faces = np.asarray(mesh.vertices), np.asarray(mesh.faces)
    cell = math.sqrt(2.0 * float(mesh.area) / max_faces)  # ~2 faces per occupied cell on a surface
    while True:
        keys = np.floor((vertices - vertices.min(axis=0)) / cell).astype(np.int64)
        _, inverse = np.unique(keys, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        merged = inverse[faces]
        merged = merged[(merged[:, 0] != merged[:, 1]) & (merged[:, 1] != merged[:, 2]) & (merged[:, 0] != merged[:, 2])]
        if len(merged) <= max_faces:
            break
        cell *= 1.25
    counts = np.bincount(inverse)
    centers = np.stack([np.bincount(inverse, weights=vertices[:, k]) for k in range(3)], axis=1) / counts[:, None]
    return trimesh.Trimesh(centers, merged, process=False)
