"""The ground truth's small parts: rays, Morton order, hole caps, the winding number."""

from __future__ import annotations

import numpy as np
import trimesh

from implicit3d.groundtruth import winding_number
from implicit3d.groundtruth.holes import with_narrow_holes_capped
from implicit3d.groundtruth.morton import morton_codes, morton_order, unit_box
from implicit3d.groundtruth.rays import Rays, sphere_directions
from implicit3d.groundtruth.winding import WindingNumber


def test_first_hit_distance_and_escape():
    box = trimesh.creation.box(extents=(1.0, 1.0, 1.0))
    rays = Rays(box.vertices, box.faces)
    origins = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [2.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    directions = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    hit = rays.first_hit(origins, directions, np.array([10.0, 10.0, 10.0, 0.4]))
    np.testing.assert_allclose(hit[:2], 0.5, atol=1e-6)
    assert np.isinf(hit[2]) and np.isinf(hit[3])  # pointing away; beyond the ray's length
    assert rays.escapes(origins[2:3], directions[2]).all()


def test_sphere_directions_are_unit_and_spread():
    d = sphere_directions(64)
    np.testing.assert_allclose(np.linalg.norm(d, axis=1), 1.0)
    np.testing.assert_allclose(d.mean(axis=0), 0.0, atol=0.02)
    np.testing.assert_array_equal(d, sphere_directions(64))  # fixed


def test_morton_order_keeps_neighbours_together():
    points = np.random.default_rng(0).random((4096, 3))
    ordered = points[morton_order(points)]
    steps = np.linalg.norm(np.diff(ordered, axis=0), axis=1)
    assert np.median(steps) < 0.2 * np.median(np.linalg.norm(np.diff(points, axis=0), axis=1))


def test_morton_order_is_the_stable_sort_of_the_codes():
    rng = np.random.default_rng(3)
    points = np.vstack([rng.normal(0.2, 0.5, (3000, 3)), np.repeat(rng.random((50, 3)), 4, axis=0)])  # repeats: stable ties
    for chosen in (points, points[:1], np.array([[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]])):  # a lone point, zero span
        expected = np.argsort(morton_codes(unit_box(chosen)), kind="stable")
        np.testing.assert_array_equal(morton_order(chosen), expected)


def test_caps_close_narrow_holes_only():
    sphere = trimesh.creation.icosphere(3, 0.5)
    small = sphere.faces[1:]  # one triangle missing: a hole about 0.1 across
    vertices, faces = with_narrow_holes_capped(sphere.vertices, small, width=0.3)
    assert len(faces) == len(small) + 3  # a fan of three triangles over the hole
    capped = trimesh.Trimesh(vertices, faces)
    assert capped.is_watertight
    _, faces = with_narrow_holes_capped(sphere.vertices, small, width=0.05)
    assert len(faces) == len(small)  # wider than the width: left open


def test_propagated_winding_number_matches_libigl():
    mesh = trimesh.creation.icosphere(3, 0.5)
    open_mesh = trimesh.Trimesh(mesh.vertices, mesh.faces[mesh.triangles_center[:, 2] < 0.3], process=False)
    points = np.random.default_rng(1).uniform(-0.8, 0.8, (5000, 3))
    points = points[morton_order(points)]
    import igl

    distance = np.sqrt(igl.point_mesh_squared_distance(points, np.asarray(open_mesh.vertices), np.asarray(open_mesh.faces))[0])
    w = WindingNumber(open_mesh.vertices, open_mesh.faces).at(points, distance)
    reference = winding_number(open_mesh, points)
    assert np.array_equal(w > 0.5, reference > 0.5)
