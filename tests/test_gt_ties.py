"""The `filled` sign does not depend on which of several equally close faces a search returns.

Overlapping or duplicated faces (a wall modelled twice, with different triangulations and
opposite orientations, as in reference object 32) are equally close to the points near them,
and the closest-face search returns one of them by index. Permuting the faces changes which
one; permuting the points changes the order of the search. Neither may change any value."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from implicit3d.groundtruth import GroundTruth, set_threads
from implicit3d.mesh import clean_mesh, load_mesh, normalize_mesh
from implicit3d.sampling import sample_near_surface, sample_volume

REFERENCE_OBJECTS = ("20", "32")
POINTS = 20_000  # per mesh: half near the surface (noise 0.01, as the test split), half in the unit sphere


def doubled_wall() -> trimesh.Trimesh:
    """A box whose top face is covered a second time by a finely triangulated sheet that faces
    the other way and overhangs the top a little. Just under the top, near its rim, a point is
    equally close to the box's top and to a sheet triangle whose centre lies beyond the rim:
    the two faces' sides there are labelled differently (inside the box, open space under the
    overhang)."""
    box = trimesh.creation.box(extents=(1.0, 0.8, 0.6))
    u, v = np.meshgrid(np.linspace(-0.53, 0.53, 54), np.linspace(-0.43, 0.43, 44), indexing="ij")
    sheet_vertices = np.column_stack([u.ravel(), v.ravel(), np.full(u.size, 0.3)])
    i, j = np.meshgrid(np.arange(53), np.arange(43), indexing="ij")
    a, b = (i * 44 + j).ravel(), ((i + 1) * 44 + j).ravel()
    rows = np.vstack([np.column_stack([a, b + 1, b]), np.column_stack([a, a + 1, b + 1])])  # facing down
    return trimesh.Trimesh(np.vstack([box.vertices, sheet_vertices]), np.vstack([box.faces, rows + len(box.vertices)]), process=False)


def under_the_rim(count: int, seed: int) -> np.ndarray:
    """Points inside the box, 0.005 under its top, 0.006-0.03 in from its rim at x = 0.5."""
    rng = np.random.default_rng(seed)
    return np.column_stack([0.5 - rng.uniform(0.006, 0.03, count), rng.uniform(-0.35, 0.35, count), np.full(count, 0.295)])


def points_near(mesh: trimesh.Trimesh, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    near = sample_near_surface(rng, mesh, POINTS // 2, 0.01)
    return np.vstack([near, sample_volume(rng, POINTS - POINTS // 2)])


def assert_independent_of_order(mesh: trimesh.Trimesh, seed: int, extra: np.ndarray | None = None) -> np.ndarray:
    points = points_near(mesh, seed) if extra is None else np.vstack([points_near(mesh, seed), extra])
    rng = np.random.default_rng(seed + 1)
    base = GroundTruth(mesh).sdf(points)
    faces = rng.permutation(len(mesh.faces))
    order = rng.permutation(len(points))
    permuted = GroundTruth(trimesh.Trimesh(mesh.vertices, mesh.faces[faces], process=False))
    again = np.empty_like(base)
    again[order] = permuted.sdf(points[order])
    assert np.sum((base < 0) != (again < 0)) == 0
    np.testing.assert_array_equal(again, base)
    return base


@pytest.fixture(autouse=True)
def _one_thread():
    set_threads(1)
    yield
    set_threads(None)


def test_doubled_wall_signs_do_not_depend_on_face_or_point_order():
    mesh = doubled_wall()
    rim = under_the_rim(500, seed=1)
    closest = GroundTruth(mesh).distance.closest(rim)
    assert closest.tied.all()  # the box's top and a sheet triangle, equally close
    sdf = assert_independent_of_order(mesh, seed=0, extra=rim)
    assert (sdf[-len(rim):] < 0).all()  # inside the box


@pytest.mark.parametrize("name", REFERENCE_OBJECTS)
def test_reference_signs_do_not_depend_on_face_or_point_order(reference_meshes, name):
    raw = load_mesh(reference_meshes / f"{name}.obj")
    mesh, _ = normalize_mesh(clean_mesh(raw))
    assert_independent_of_order(mesh, seed=int(name))
