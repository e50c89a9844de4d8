"""Points and a reference sign for the ground-truth benchmarks."""

from __future__ import annotations

import numpy as np

from implicit3d.groundtruth.rays import Rays, sphere_directions
from implicit3d.sampling import sample_near_surface, sample_volume

NEAR_STD = 0.01  # the test split's near-surface noise


def mixed_points(mesh, count: int, seed: int) -> tuple[np.ndarray, int]:
    """`count` points, half near the surface (N(0, NEAR_STD) noise) then half uniform in the unit
    sphere, as float64; and how many are near-surface (they come first)."""
    rng = np.random.default_rng(seed)
    near = count // 2
    points = np.vstack([sample_near_surface(rng, mesh, near, NEAR_STD), sample_volume(rng, count - near, "sphere")])
    return np.ascontiguousarray(points, dtype=np.float64), near


def visibility_inside(mesh, points: np.ndarray, rays: int = 64) -> np.ndarray:
    """Inside when every one of `rays` fixed, evenly spread directions hits the mesh: what a viewer
    would call inside, except in deep pockets, and what virtual-scan tools approximate."""
    caster = Rays(mesh.vertices, mesh.faces)
    inside = np.ones(len(points), dtype=bool)
    for direction in sphere_directions(rays):
        todo = np.flatnonzero(inside)
        if not len(todo):
            break
        inside[todo[caster.escapes(points[todo], direction)]] = False
    return inside
