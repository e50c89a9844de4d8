"""Ground-truth signed distance from a mesh, behind one interface.

Every backend returns float64 SDF values, negative inside, in the frame of the
vertices given (the normalized frame in the pipeline).
"""

from __future__ import annotations

import numpy as np
import trimesh

METHODS = ("winding", "trimesh", "pysdf", "mesh_to_sdf")
DEFAULT_METHOD = "winding"


def compute_sdf(mesh: trimesh.Trimesh, points: np.ndarray, method: str = DEFAULT_METHOD) -> np.ndarray:
    """Signed distance of `points` (N, 3) to `mesh`, negative inside."""
    if method not in METHODS:
        raise ValueError(f"unknown ground-truth method '{method}' (choose from {', '.join(METHODS)})")
    points = np.ascontiguousarray(points, dtype=np.float64)
    if len(points) == 0:
        return np.zeros(0)
    return _BACKENDS[method](mesh, points)


def _winding(mesh: trimesh.Trimesh, points: np.ndarray) -> np.ndarray:
    # Sign from the generalized winding number: robust on open and multi-body meshes.
    import igl

    vertices = np.ascontiguousarray(mesh.vertices, dtype=np.float64)
    faces = np.ascontiguousarray(mesh.faces, dtype=np.int64)
    sdf, *_ = igl.signed_distance(points, vertices, faces, sign_type=igl.SIGNED_DISTANCE_TYPE_FAST_WINDING_NUMBER)
    return np.asarray(sdf, dtype=np.float64)


def _trimesh(mesh: trimesh.Trimesh, points: np.ndarray, chunk: int = 20000) -> np.ndarray:
    # trimesh returns positive inside; chunked because it is memory hungry.
    out = np.empty(len(points))
    for start in range(0, len(points), chunk):
        out[start : start + chunk] = -trimesh.proximity.signed_distance(mesh, points[start : start + chunk])
    return out


def _pysdf(mesh: trimesh.Trimesh, points: np.ndarray) -> np.ndarray:
    from pysdf import SDF

    f = SDF(np.asarray(mesh.vertices, dtype=np.float32), np.asarray(mesh.faces, dtype=np.uint32))
    return -np.asarray(f(points.astype(np.float32)), dtype=np.float64)  # pysdf: positive inside


def _mesh_to_sdf(mesh: trimesh.Trimesh, points: np.ndarray) -> np.ndarray:
    import os

    os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
    from mesh_to_sdf import mesh_to_sdf

    return np.asarray(mesh_to_sdf(mesh, points, surface_point_method="scan", sign_method="normal"), dtype=np.float64)


_BACKENDS = {"winding": _winding, "trimesh": _trimesh, "pysdf": _pysdf, "mesh_to_sdf": _mesh_to_sdf}


def compute_sdf_guarded(
    mesh: trimesh.Trimesh, points: np.ndarray, method: str = DEFAULT_METHOD
) -> tuple[np.ndarray, dict]:
    """`compute_sdf` plus sanity guards: values that are non-finite or far beyond the
    volume's diameter are recomputed with the robust default, else flagged NaN.

    Returns the SDF and counts for the stage's log: {"bad": n, "recomputed": n, "dropped": n}.
    """
    sdf = compute_sdf(mesh, points, method)
    diameter = float(np.ptp(np.vstack([points, mesh.vertices]), axis=0).max()) * 2.0
    bad = ~np.isfinite(sdf) | (np.abs(sdf) > diameter)
    stats = {"bad": int(bad.sum()), "recomputed": 0, "dropped": 0}
    if bad.any() and method != DEFAULT_METHOD:
        sdf[bad] = compute_sdf(mesh, points[bad], DEFAULT_METHOD)
        stats["recomputed"] = int(bad.sum())
        bad = ~np.isfinite(sdf)
    if bad.any():
        sdf[bad] = np.nan
        stats["dropped"] = int(bad.sum())
    return sdf, stats


def inside_fraction_flag(fraction: float, low: float = 1e-4, high: float = 0.9) -> str | None:
    """Name an implausible inside fraction of the volume (none, or almost all), else None."""
    if not np.isfinite(fraction):
        return None
    if fraction < low:
        return "inside_empty"
    if fraction > high:
        return "inside_almost_all"
    return None
