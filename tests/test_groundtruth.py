"""Ground-truth SDF: sign robustness of the default backend, guards, orientation repair, backends."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import trimesh

from implicit3d import groundtruth as gt

RADIUS = 0.5
CGAL_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "cgal_sample"


def sphere(subdivisions: int = 3, radius: float = RADIUS, center=(0.0, 0.0, 0.0)) -> trimesh.Trimesh:
    mesh = trimesh.creation.icosphere(subdivisions=subdivisions, radius=radius)
    mesh.apply_translation(center)
    return mesh


def sample_points(mesh: trimesh.Trimesh, count: int = 6000, seed: int = 0) -> np.ndarray:
    """Half near the surface (like the pipeline's near samples), half uniform in the cube."""
    rng = np.random.default_rng(seed)
    surface, _ = trimesh.sample.sample_surface(mesh, count // 2, seed=seed)
    near = surface + rng.normal(0.0, 0.02, size=surface.shape)
    return np.vstack([near, rng.uniform(-1.0, 1.0, size=(count - count // 2, 3))])


def assert_matches_reference(mesh: trimesh.Trimesh, points: np.ndarray, sdf: np.ndarray) -> None:
    """Same sign as plain igl fast winding number (inside where |w| > 1/2), exact distance."""
    import igl

    w = gt.winding_number(mesh, points)
    inside = np.abs(w) > 0.5
    wrong = np.flatnonzero((sdf < 0) != inside)
    assert len(wrong) == 0, f"{len(wrong)} signs differ from igl's winding number, e.g. w={w[wrong[:5]]}"
    vertices, faces = gt._arrays(mesh)
    distance = np.sqrt(igl.point_mesh_squared_distance(points, vertices, faces)[0])
    np.testing.assert_allclose(np.abs(sdf), distance, rtol=0, atol=1e-12)


def analytic_inside(points: np.ndarray, center=(0.0, 0.0, 0.0), radius: float = RADIUS) -> np.ndarray:
    return np.linalg.norm(points - np.asarray(center), axis=1) < radius


def clear_of_surface(points: np.ndarray, margin: float = 0.02, center=(0.0, 0.0, 0.0)) -> np.ndarray:
    """Points whose side of the true sphere is not blurred by the icosphere's facets."""
    return np.abs(np.linalg.norm(points - np.asarray(center), axis=1) - RADIUS) > margin


# --- the default backend on hard inputs ------------------------------------------------------


def test_closed_sphere_sign_and_distance():
    mesh, points = sphere(), sample_points(sphere())
    sdf = gt.compute_sdf(mesh, points)
    assert_matches_reference(mesh, points, sdf)
    clear = clear_of_surface(points)
    assert np.array_equal(sdf[clear] < 0, analytic_inside(points[clear]))
    np.testing.assert_allclose(np.abs(sdf), np.abs(np.linalg.norm(points, axis=1) - RADIUS), atol=0.01)


def test_most_points_inherit_their_sign_from_a_region():
    mesh = sphere()
    gt.compute_sdf(mesh, sample_points(mesh, 20000))
    counts = gt._winding.last_counts
    assert counts["propagated"] > 0.8 * 20000, counts


def test_sphere_with_hole_keeps_sign_away_from_hole():
    closed = sphere()
    hole = closed.triangles_center[:, 2] > 0.42  # a cap of the sphere removed
    mesh = trimesh.Trimesh(closed.vertices, closed.faces[~hole], process=False)
    points = sample_points(closed, 8000)
    sdf = gt.compute_sdf(mesh, points)
    assert_matches_reference(mesh, points, sdf)
    rim_center = np.array([0.0, 0.0, 0.42])
    away = (np.linalg.norm(points - rim_center, axis=1) > 0.45) & clear_of_surface(points)
    assert away.sum() > 2000
    assert np.array_equal(sdf[away] < 0, analytic_inside(points[away]))


def test_open_bowl_and_sheet_match_winding_number():
    # Large openings: the winding number varies smoothly through them, nothing is clean 0/1.
    closed = sphere()
    bowl = trimesh.Trimesh(closed.vertices, closed.faces[closed.triangles_center[:, 2] < 0.1], process=False)
    sheet = trimesh.creation.box(extents=(1.0, 1.0, 0.2))
    sheet = trimesh.Trimesh(sheet.vertices, sheet.faces[sheet.face_normals[:, 2] > 0.5], process=False)
    for mesh in (bowl, sheet):
        points = sample_points(closed, 6000, seed=1)
        assert_matches_reference(mesh, points, gt.compute_sdf(mesh, points))


def test_many_small_holes_match_winding_number():
    closed = sphere(4)
    keep = np.random.default_rng(3).random(len(closed.faces)) > 0.1
    mesh = trimesh.Trimesh(closed.vertices, closed.faces[keep], process=False)
    points = sample_points(closed, 8000, seed=2)
    assert_matches_reference(mesh, points, gt.compute_sdf(mesh, points))


def test_overlapping_bodies_inside_is_union():
    a, b = sphere(center=(-0.2, 0, 0)), sphere(center=(0.2, 0, 0))
    mesh = trimesh.util.concatenate([a, b])
    points = sample_points(mesh, 8000)
    sdf = gt.compute_sdf(mesh, points)
    assert_matches_reference(mesh, points, sdf)
    union = analytic_inside(points, (-0.2, 0, 0)) | analytic_inside(points, (0.2, 0, 0))
    clear = clear_of_surface(points, center=(-0.2, 0, 0)) & clear_of_surface(points, center=(0.2, 0, 0))
    assert np.array_equal(sdf[clear] < 0, union[clear])


def test_triangle_soup_equals_merged_mesh():
    mesh = sphere()
    soup = trimesh.Trimesh(mesh.triangles.reshape(-1, 3), np.arange(3 * len(mesh.faces)).reshape(-1, 3), process=False)
    points = sample_points(mesh)
    np.testing.assert_allclose(gt.compute_sdf(soup, points), gt.compute_sdf(mesh, points))


def test_duplicated_faces_keep_sign():
    mesh = sphere()
    extra = mesh.faces[np.random.default_rng(0).random(len(mesh.faces)) < 0.2]
    doubled = trimesh.Trimesh(mesh.vertices, np.vstack([mesh.faces, extra]), process=False)
    points = sample_points(mesh)
    sdf = gt.compute_sdf(doubled, points)
    assert_matches_reference(doubled, points, sdf)
    np.testing.assert_allclose(sdf, gt.compute_sdf(mesh, points))


def test_long_thin_triangles_are_split_without_changing_the_result():
    mesh = trimesh.creation.cylinder(radius=0.3, height=1.6, sections=64)  # sides: 1.6 x 0.03 needles
    solver = gt._WindingSolver(mesh)
    assert len(solver.faces) > 2 * len(mesh.faces)
    points = sample_points(mesh, 6000)
    sdf = gt.compute_sdf(mesh, points)
    assert_matches_reference(mesh, points, sdf)
    radial, height = np.linalg.norm(points[:, :2], axis=1), np.abs(points[:, 2])
    clear = np.minimum(np.abs(radial - 0.3), np.abs(height - 0.8)) > 0.02
    assert np.array_equal(sdf[clear] < 0, ((radial < 0.3) & (height < 0.8))[clear])


def test_empty_points_and_unknown_method():
    assert gt.compute_sdf(sphere(), np.zeros((0, 3))).shape == (0,)
    with pytest.raises(ValueError, match="unknown ground-truth method 'magic' \\(choose from winding, "):
        gt.compute_sdf(sphere(), np.zeros((1, 3)), "magic")


# --- orientation -----------------------------------------------------------------------------


def test_partly_flipped_faces_are_detected_and_fixed():
    mesh = sphere()
    flip = np.random.default_rng(1).random(len(mesh.faces)) < 0.1
    broken = trimesh.Trimesh(mesh.vertices, np.where(flip[:, None], mesh.faces[:, ::-1], mesh.faces), process=False)
    points = sample_points(mesh)
    clear = clear_of_surface(points)
    wrong_before = np.sum((gt.compute_sdf(broken, points)[clear] < 0) != analytic_inside(points[clear]))
    assert wrong_before > 0  # why the repair matters: flipped faces corrupt the winding number

    fixed, report = gt.fix_orientation(broken)
    assert report == {"flipped_faces": int(flip.sum()), "inverted_bodies": 0, "bodies": 1}
    np.testing.assert_array_equal(fixed.faces, mesh.faces)
    assert np.array_equal(gt.compute_sdf(fixed, points)[clear] < 0, analytic_inside(points[clear]))


def test_fully_inverted_mesh_is_detected_and_fixed():
    mesh = sphere()
    inverted = trimesh.Trimesh(mesh.vertices, mesh.faces[:, ::-1], process=False)
    points = sample_points(mesh)
    assert np.all(gt.winding_number(inverted, points[analytic_inside(points) & clear_of_surface(points)]) < -0.5)

    fixed, report = gt.fix_orientation(inverted)
    assert report == {"flipped_faces": 0, "inverted_bodies": 1, "bodies": 1}
    np.testing.assert_array_equal(fixed.faces, mesh.faces)
    # The sign uses |w|, like igl: even the inverted mesh gets the right inside.
    np.testing.assert_allclose(gt.compute_sdf(inverted, points), gt.compute_sdf(fixed, points))


def test_fix_orientation_leaves_good_meshes_alone():
    for mesh in (sphere(), trimesh.util.concatenate([sphere(center=(-0.3, 0, 0)), trimesh.creation.box()])):
        fixed, report = gt.fix_orientation(mesh)
        assert report["flipped_faces"] == 0 and report["inverted_bodies"] == 0
        np.testing.assert_array_equal(fixed.faces, mesh.faces)


def test_inside_fraction_flag():
    assert gt.inside_fraction_flag(0.12) is None
    assert "almost no volume" in gt.inside_fraction_flag(0.0)
    assert "broken" in gt.inside_fraction_flag(0.99)
    assert "undefined" in gt.inside_fraction_flag(float("nan"))


# --- guards ----------------------------------------------------------------------------------


def fake_backend(monkeypatch, values: dict[int, float]) -> None:
    """Replace the pysdf backend by the exact SDF with some entries corrupted."""

    def backend(mesh, points):
        sdf = gt.compute_sdf(mesh, points)
        for index, value in values.items():
            sdf[index] = value
        return sdf

    monkeypatch.setitem(gt._BACKENDS, "pysdf", backend)


def test_guard_recomputes_nonfinite_and_huge_values(monkeypatch):
    mesh, points = sphere(), sample_points(sphere(), 500)
    fake_backend(monkeypatch, {3: np.nan, 7: 1e18, 11: -np.inf})
    sdf, stats = gt.compute_sdf_guarded(mesh, points, "pysdf")
    assert stats == {"method": "pysdf", "bad": 3, "recomputed": 3, "dropped": 0}
    np.testing.assert_allclose(sdf, gt.compute_sdf(mesh, points))


def test_guard_drops_what_the_default_cannot_compute(monkeypatch):
    mesh, points = sphere(), sample_points(sphere(), 200)

    def broken_default(mesh, points):
        sdf = np.linalg.norm(points, axis=1) - RADIUS
        sdf[:2] = np.nan
        return sdf

    monkeypatch.setattr(gt, "_winding", broken_default)
    sdf, stats = gt.compute_sdf_guarded(mesh, points)
    assert stats == {"method": "winding", "bad": 2, "recomputed": 0, "dropped": 2}
    assert np.isnan(sdf[:2]).all() and np.isfinite(sdf[2:]).all()


def test_guard_keeps_legitimate_far_values():
    mesh = sphere()
    points = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [-1.0, -1.0, -1.0]])
    sdf, stats = gt.compute_sdf_guarded(mesh, points)
    assert stats["bad"] == 0 and np.isfinite(sdf).all()


# --- every selectable backend on a sphere ----------------------------------------------------


@pytest.mark.parametrize("method", gt.METHODS)
def test_backend_on_sphere(method, monkeypatch):
    reason = gt.backend_unavailable(method)
    if reason:
        pytest.skip(reason)
    monkeypatch.setattr(gt, "MESH_TO_SDF_SCANS", 20)  # keeps the test fast; defaults are 100 x 400^2
    monkeypatch.setattr(gt, "MESH_TO_SDF_RESOLUTION", 200)
    mesh = sphere(2)
    points = sample_points(mesh, 400 if method == "mesh_to_sdf" else 3000)
    sdf = gt.compute_sdf(mesh, points, method)
    assert sdf.dtype == np.float64 and sdf.shape == (len(points),)
    clear = clear_of_surface(points, 0.05)
    assert np.mean((sdf[clear] < 0) == analytic_inside(points[clear])) > 0.99
    exact = np.abs(gt.compute_sdf(mesh, points))
    tolerance = 0.03 if method == "mesh_to_sdf" else 1e-4  # mesh_to_sdf: distance to scanned points
    assert np.median(np.abs(np.abs(sdf) - exact)) < tolerance


# --- watertight reference meshes (shared data, when present) ---------------------------------


def test_cgal_sample_sign_matches_winding_reference():
    files = sorted(CGAL_DIR.glob("*.ply"))
    if not files:
        pytest.skip(f"{CGAL_DIR} not found (shared test data)")
    from implicit3d.mesh import clean_mesh, load_mesh, normalize_mesh

    for path in files:
        mesh, _ = normalize_mesh(clean_mesh(load_mesh(path)))
        points = sample_points(mesh, 4000)
        assert_matches_reference(mesh, points, gt.compute_sdf(mesh, points))
