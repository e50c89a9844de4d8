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


def test_solid_13_propagated_winding_number_matches_the_direct_one(reference_meshes):
    # A million points make surface-free balls overlap everywhere: one distance that is too
    # large (a wrong closest face) joins inside and outside and empties the object.
    import igl

    from implicit3d.groundtruth.distance import Surface
    from implicit3d.sampling import sample_near_surface

    path = reference_meshes / "13.obj"
    mesh, _ = normalize_mesh(clean_mesh(load_mesh(path), path))
    rng = np.random.default_rng(0)
    volume = sample_volume(rng, 50000, "sphere")
    points = np.vstack([sample_near_surface(rng, mesh, 1000000, 0.01), volume])
    truth = GroundTruth(mesh, sign="solid")
    solid = truth.sdf(points)[-len(volume) :] < 0
    repaired = truth.convention.orientation.faces
    direct = igl.winding_number(np.asarray(mesh.vertices, dtype=np.float64), np.asarray(repaired, dtype=np.int64), volume) > 0.5
    assert direct.mean() > 0.02
    assert np.mean(solid == direct) > 0.999
    exact = np.sqrt(igl.point_mesh_squared_distance(points[:200000], np.asarray(mesh.vertices), np.asarray(mesh.faces))[0])
    np.testing.assert_allclose(Surface(mesh.vertices, mesh.faces).distance(points[:200000]), exact, rtol=1e-9, atol=1e-12)
