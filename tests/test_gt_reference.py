"""Reference mesh 9 (a chair whose faces point both ways): `filled` finds what a viewer sees."""

from __future__ import annotations

import numpy as np

from implicit3d.groundtruth import GroundTruth
from implicit3d.groundtruth.rays import Rays, sphere_directions
from implicit3d.mesh import clean_mesh, load_mesh, normalize_mesh
from implicit3d.sampling import sample_volume


def test_chair_9_filled_matches_a_64_ray_visibility_test(reference_meshes):
    path = reference_meshes / "9.obj"
    mesh, _ = normalize_mesh(clean_mesh(load_mesh(path), path))
    points = sample_volume(np.random.default_rng(0), 40000, "sphere")
    filled = GroundTruth(mesh).sdf(points) < 0
    rays = Rays(mesh.vertices, mesh.faces)
    seen = np.zeros(len(points), dtype=bool)
    for direction in sphere_directions(64):
        seen |= rays.escapes(points, direction)
    visibility = ~seen  # inside: every one of 64 rays hits the mesh
    assert visibility.mean() > 0.02  # about 3 % of the volume is enclosed
    assert abs(filled.mean() - visibility.mean()) < 0.005
    # Its walls are thin shells: solid finds almost no material there, and says so.
    solid = GroundTruth(mesh, sign="solid").sdf(points) < 0
    assert solid.mean() < 0.001
