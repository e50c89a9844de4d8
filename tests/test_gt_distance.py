"""Exact point-to-triangle distance: the closest point on a face and the tree search."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from implicit3d.groundtruth.distance import DistanceBounds, Surface


def brute_closest(p: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Closest point by dense sampling of the triangle plus its edges (slow, independent)."""
    s = np.linspace(0.0, 1.0, 201)
    u, v = np.meshgrid(s, s)
    keep = u + v <= 1.0
    u, v = u[keep], v[keep]
    out = np.empty_like(p)
    for i in range(len(p)):
        candidates = a[i] + u[:, None] * (b[i] - a[i]) + v[:, None] * (c[i] - a[i])
        out[i] = candidates[np.argmin(np.linalg.norm(candidates - p[i], axis=1))]
    return out


def test_closest_point_in_every_region_and_on_degenerate_triangles():
    rng = np.random.default_rng(0)
    n = 300
    a, b, c = rng.normal(size=(3, n, 3))
    b[:20] = a[:20]  # two vertices equal: a segment
    a[20:30] = b[20:30] = c[20:30]  # all equal: a point
    c[30:40] = a[30:40] + 0.3 * (b[30:40] - a[30:40])  # collinear
    p = rng.normal(size=(n, 3)) * 2.0
    got = np.array([Surface(np.stack([a[i], b[i], c[i]]), np.array([[0, 1, 2]])).closest(p[i : i + 1]).point[0] for i in range(n)])
    want = brute_closest(p, a, b, c)
    # The brute force is off by its sampling step at most; the exact point is never farther.
    assert np.all(np.linalg.norm(p - got, axis=1) <= np.linalg.norm(p - want, axis=1) + 1e-12)
    np.testing.assert_allclose(np.linalg.norm(p - got, axis=1), np.linalg.norm(p - want, axis=1), atol=0.02)


def test_search_finds_the_closest_face_and_says_where_faces_tie():
    # A box's faces are split in two along a diagonal: points over a diagonal, an edge or a
    # corner are equally close to several faces (with the same closest point here, so the
    # lowest index wins), whatever other points share the call and in what order (threads,
    # pool and test splits). The search flags every such point as tied.
    mesh = trimesh.creation.box(extents=(1.0, 1.0, 1.0))
    rng = np.random.default_rng(3)
    grid = np.stack(np.meshgrid(*[np.linspace(-0.75, 0.75, 7)] * 3, indexing="ij"), axis=-1).reshape(-1, 3)
    points = np.vstack([grid, rng.uniform(-1.0, 1.0, size=(500, 3))])
    surface = Surface(mesh.vertices, mesh.faces)
    found = surface.closest(points)
    every = np.array([[Surface(mesh.vertices, mesh.faces[[f]]).distance(q[None])[0] for f in range(len(mesh.faces))] for q in points])
    np.testing.assert_allclose(found.distance, every.min(axis=1), rtol=0, atol=1e-15)
    ties = every == every.min(axis=1, keepdims=True)  # as computed: equal to the last bit
    assert (ties.sum(axis=1) > 1).sum() > 100  # the grid's points really do tie
    np.testing.assert_array_equal(found.face, ties.argmax(axis=1))
    np.testing.assert_array_equal(found.tied[ties.sum(axis=1) > 1], True)
    order = rng.permutation(len(points))
    again = surface.closest(points[order])
    np.testing.assert_array_equal(again.face, found.face[order])
    np.testing.assert_array_equal(again.point, found.point[order])
    np.testing.assert_array_equal(again.distance, found.distance[order])


def test_distances_agree_with_libigl():
    import igl

    mesh = trimesh.creation.torus(0.6, 0.2)
    points = np.random.default_rng(1).uniform(-1.0, 1.0, size=(5000, 3))
    found = Surface(mesh.vertices, mesh.faces).closest(points)
    reference = np.sqrt(igl.point_mesh_squared_distance(points, np.asarray(mesh.vertices), np.asarray(mesh.faces))[0])
    np.testing.assert_allclose(found.distance, reference, rtol=2e-6, atol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(points - found.point, axis=1), found.distance, atol=1e-12)
    direction = found.direction(points)
    np.testing.assert_allclose(np.linalg.norm(direction, axis=1), 1.0, atol=1e-9)


def test_bounded_search_finds_what_lies_within_the_bound():
    mesh = trimesh.creation.icosphere(3, 0.5)
    points = np.random.default_rng(2).uniform(-1.0, 1.0, size=(4000, 3))
    surface = Surface(mesh.vertices, mesh.faces)
    exact = surface.distance(points)
    bounded = surface.distance(points, 0.1)
    within = exact <= 0.1 * (1 - 1e-6)
    np.testing.assert_allclose(bounded[within], exact[within])
    assert np.all(np.isinf(bounded[exact > 0.1 * (1 + 1e-4)]))


def test_coarse_bounds_are_exact_at_the_nodes():
    mesh = trimesh.creation.box(extents=(1.0, 0.5, 0.5))
    surface = Surface(mesh.vertices, mesh.faces)
    bounds = DistanceBounds(surface, np.full(3, -1.0), np.full(3, 1.0), cells=8)
    node = bounds.lo + np.array([3, 4, 5]) * bounds.step
    assert bounds.values[3, 4, 5] == pytest.approx(surface.distance(node[None])[0])


def test_ground_truth_does_not_depend_on_the_thread_count():
    from implicit3d.groundtruth import GroundTruth, set_threads
    from implicit3d.groundtruth.threads import threads

    # A box with a cavity (filled: inside) and points enough to be split over threads.
    mesh = trimesh.util.concatenate([trimesh.creation.box(extents=(1.2, 1.2, 1.2)), trimesh.creation.icosphere(2, 0.3)])
    points = np.random.default_rng(4).uniform(-1.0, 1.0, size=(220_000, 3))
    try:
        set_threads(1)
        assert threads() == 1
        one = GroundTruth(mesh).sdf(points)
        set_threads(4)
        four = GroundTruth(mesh).sdf(points)
    finally:
        set_threads(None)
    np.testing.assert_array_equal(one, four)
    assert (one < 0).any() and (one > 0).any()
    with pytest.raises(ValueError, match="at least 1"):
        set_threads(0)


def test_tree_built_in_two_threads_is_the_one_built_in_one():
    from implicit3d.groundtruth import set_threads
    from implicit3d.groundtruth.bvh import PARALLEL_BUILD, piece_tree

    # An uneven mesh (a fine sphere beside a coarse box) above the size the build splits over threads.
    mesh = trimesh.util.concatenate([trimesh.creation.icosphere(6, 0.5), trimesh.creation.box(extents=(0.3, 2.0, 0.2))])
    assert len(mesh.faces) >= PARALLEL_BUILD
    vertices, faces = np.asarray(mesh.vertices, dtype=np.float64), np.asarray(mesh.faces, dtype=np.int64)
    try:
        set_threads(1)
        one = piece_tree(vertices, faces)
        set_threads(2)
        two = piece_tree(vertices, faces)
    finally:
        set_threads(None)
    assert len(one) == len(two) and len(one[1]) > 1000
    for a, b in zip(one, two, strict=True):
        np.testing.assert_array_equal(a, b)
