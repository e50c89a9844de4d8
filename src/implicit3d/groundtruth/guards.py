"""Sanity guards on ground-truth values and a plausibility flag for the inside fraction."""

from __future__ import annotations

import numpy as np
import trimesh

from .morton import column_bounds


def max_distance(mesh: trimesh.Trimesh, points: np.ndarray) -> float:
    """Upper bound on any point-to-mesh distance: the diagonal of their joint bounding box."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    vertices = np.asarray(mesh.vertices, dtype=np.float64)
    bounds = [column_bounds(a) for a in (points, vertices) if len(a)]
    if not bounds:
        return 0.0
    lo = np.min([b[0] for b in bounds], axis=0)
    hi = np.max([b[1] for b in bounds], axis=0)
    return float(np.linalg.norm(hi - lo))


def implausible(sdf: np.ndarray, limit: float) -> np.ndarray:
    """Non-finite values, or values farther than any point can be from the mesh."""
    # Relative slack so that exact distances equal to the bound are not flagged.
    return ~np.isfinite(sdf) | (np.abs(sdf) > limit * (1.0 + 1e-6) + 1e-12)


def inside_fraction_flag(fraction: float, sign: str | None = None, low: float = 1e-3, high: float = 0.9) -> str | None:
    """A short warning when the share of inside points is implausible, else None.

    Meant for the uniform volume points. Almost none inside means the mesh encloses or
    holds no volume under the sign convention used; almost all inside means the sign is
    broken (or the object fills its bounding sphere).
    """
    if not np.isfinite(fraction):
        return "inside fraction is undefined (no valid points)"
    if fraction <= low:
        why = {
            "solid": "the mesh holds almost no material (zero-thickness sheets or open shells); "
            "sampling.sign: filled counts the volume they enclose",
            "filled": "the mesh encloses almost no volume (open sheets, or openings wider than sampling.seal)",
        }.get(sign, "the mesh encloses almost no volume (thin or open shell) or its orientation is inverted")
        return f"only {fraction:.2%} of points inside (<= {low:.2%}): {why}"
    if fraction >= high:
        return f"{fraction:.2%} of points inside (>= {high:.0%}): sign is probably broken"
    return None
