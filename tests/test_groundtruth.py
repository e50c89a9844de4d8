"""Ground-truth SDF through its public interface: both signs on hard inputs, guards, backends."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapes
import trimesh

import implicit3d.groundtruth as gt

RADIUS = 0.5
CGAL_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "cgal_sample"
SIGNS = gt.SIGNS


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


# The closest face is searched in float32 (the precision the samples are stored in), then its
# distance is computed in float64: off the true minimum only where faces tie within float32.
DISTANCE = {"rtol": 2e-6, "atol": 1e-9}


def exact_distance(mesh: trimesh.Trimesh, points: np.ndarray) -> np.ndarray:
    import igl

    vertices = np.asarray(mesh.vertices, dtype=np.float64)
    faces = np.asarray(mesh.faces, dtype=np.int64)
    return np.sqrt(igl.point_mesh_squared_distance(points, vertices, faces)[0])


def analytic_inside(points: np.ndarray, center=(0.0, 0.0, 0.0), radius: float = RADIUS) -> np.ndarray:
    return np.linalg.norm(points - np.asarray(center), axis=1) < radius


def clear_of_surface(points: np.ndarray, margin: float = 0.02, center=(0.0, 0.0, 0.0)) -> np.ndarray:
    """Points whose side of the true sphere is not blurred by the icosphere's facets."""
    return np.abs(np.linalg.norm(points - np.asarray(center), axis=1) - RADIUS) > margin


@pytest.mark.parametrize("sign", SIGNS)
def test_closed_sphere_sign_and_exact_distance(sign):
    mesh, points = sphere(), sample_points(sphere())
    sdf = gt.compute_sdf(mesh, points, sign=sign)
    clear = clear_of_surface(points)
    assert np.array_equal(sdf[clear] < 0, analytic_inside(points[clear]))
    np.testing.assert_allclose(np.abs(sdf), exact_distance(mesh, points), **DISTANCE)


@pytest.mark.parametrize("sign", SIGNS)
def test_overlapping_bodies_inside_is_union(sign):
    a, b = sphere(center=(-0.2, 0, 0)), sphere(center=(0.2, 0, 0))
    points = sample_points(trimesh.util.concatenate([a, b]), 8000)
    sdf = gt.compute_sdf(trimesh.util.concatenate([a, b]), points, sign=sign)
    union = analytic_inside(points, (-0.2, 0, 0)) | analytic_inside(points, (0.2, 0, 0))
    clear = clear_of_surface(points, center=(-0.2, 0, 0)) & clear_of_surface(points, center=(0.2, 0, 0))
    assert np.array_equal(sdf[clear] < 0, union[clear])


@pytest.mark.parametrize("sign", SIGNS)
def test_triangle_soup_equals_merged_mesh(sign):
    mesh = sphere()
    points = sample_points(mesh)
    np.testing.assert_allclose(gt.compute_sdf(shapes.soup(mesh), points, sign=sign), gt.compute_sdf(mesh, points, sign=sign), **DISTANCE)


@pytest.mark.parametrize("sign", SIGNS)
def test_duplicated_faces_keep_the_sdf(sign):
    mesh = sphere()
    extra = mesh.faces[np.random.default_rng(0).random(len(mesh.faces)) < 0.2]
    doubled = trimesh.Trimesh(mesh.vertices, np.vstack([mesh.faces, extra]), process=False)
    points = sample_points(mesh)
    np.testing.assert_allclose(gt.compute_sdf(doubled, points, sign=sign), gt.compute_sdf(mesh, points, sign=sign), **DISTANCE)


@pytest.mark.parametrize("sign", SIGNS)
def test_partly_flipped_and_inverted_meshes_keep_the_sign(sign):
    mesh, points = sphere(), sample_points(sphere())
    clear = clear_of_surface(points)
    flipped = shapes.flip_some(mesh, 0.3, np.random.default_rng(1))
    for broken in (flipped, shapes.inward(mesh)):
        assert np.array_equal(gt.compute_sdf(broken, points, sign=sign)[clear] < 0, analytic_inside(points[clear]))


@pytest.mark.parametrize("sign", SIGNS)
def test_long_thin_triangles(sign):
    mesh = trimesh.creation.cylinder(radius=0.3, height=1.6, sections=64)  # sides: 1.6 x 0.03 needles
    points = sample_points(mesh, 6000)
    sdf = gt.compute_sdf(mesh, points, sign=sign)
    radial, height = np.linalg.norm(points[:, :2], axis=1), np.abs(points[:, 2])
    clear = np.minimum(np.abs(radial - 0.3), np.abs(height - 0.8)) > 0.02
    assert np.array_equal(sdf[clear] < 0, ((radial < 0.3) & (height < 0.8))[clear])
    np.testing.assert_allclose(np.abs(sdf), exact_distance(mesh, points), **DISTANCE)


def test_sphere_with_a_hole_wider_than_the_seal_is_open_under_both():
    closed = sphere()
    keep = closed.triangles_center[:, 2] <= 0.42  # a cap of radius ~0.27 removed: wider than the seal
    mesh = trimesh.Trimesh(closed.vertices, closed.faces[keep], process=False)
    points = np.random.default_rng(0).uniform(-0.35, 0.35, size=(4000, 3))
    deep = (np.linalg.norm(points, axis=1) < 0.35) & (points[:, 2] < 0.1)
    assert deep.sum() > 1000
    # A zero-thickness sheet with an opening wider than the seal: a bowl, seen into, no material.
    for sign in SIGNS:
        assert (gt.compute_sdf(mesh, points[deep], sign=sign) > 0).all(), sign
    # The winding number alone would bridge the hole (w is about 0.9 there).
    assert (gt.winding_number(mesh, points[deep]) > 0.5).all()


@pytest.mark.parametrize("sign", SIGNS)
def test_open_sheet_has_no_inside(sign):
    sheet = trimesh.creation.box(extents=(1.0, 1.0, 0.2))
    sheet = trimesh.Trimesh(sheet.vertices, sheet.faces[sheet.face_normals[:, 2] > 0.5], process=False)
    points = sample_points(sheet, 4000)
    sdf = gt.compute_sdf(sheet, points, sign=sign)
    assert not (sdf < 0).any()
    np.testing.assert_allclose(np.abs(sdf), exact_distance(sheet, points), **DISTANCE)


def test_empty_points_unknown_method_sign_and_bad_seal():
    assert gt.compute_sdf(sphere(), np.zeros((0, 3))).shape == (0,)
    with pytest.raises(ValueError, match="unknown ground-truth method 'magic' \\(choose from exact, "):
        gt.compute_sdf(sphere(), np.zeros((1, 3)), "magic")
    with pytest.raises(ValueError, match="unknown sign convention 'hollow' \\(choose from filled, solid\\)"):
        gt.GroundTruth(sphere(), sign="hollow")
    with pytest.raises(ValueError, match="seal must be positive"):
        gt.GroundTruth(sphere(), seal=0.0)


def test_report_names_the_convention():
    filled = gt.GroundTruth(sphere()).report()
    assert filled["method"] == "exact" and filled["sign"] == "filled" and filled["seal"] == gt.DEFAULT_SEAL
    assert filled["surface_faces"] == filled["faces"] == len(sphere().faces)
    solid = gt.GroundTruth(sphere(), sign="solid").report()
    assert solid["sign"] == "solid" and solid["seal"] == gt.DEFAULT_SEAL and solid["patches"] == 1 and solid["flipped_faces"] == 0


def test_inside_fraction_flag_names_the_convention():
    assert gt.inside_fraction_flag(0.12) is None
    assert "almost no volume" in gt.inside_fraction_flag(0.0)
    assert "no material" in gt.inside_fraction_flag(0.0, "solid")
    assert "sampling.seal" in gt.inside_fraction_flag(0.0, "filled")
    assert "broken" in gt.inside_fraction_flag(0.99)
    assert "undefined" in gt.inside_fraction_flag(float("nan"))


# --- guards ----------------------------------------------------------------------------------


def fake_backend(monkeypatch, values: dict[int, float]) -> None:
    """Replace the pysdf backend by the exact SDF with some entries corrupted."""
    from implicit3d.groundtruth import backends

    def backend(mesh, points):
        sdf = gt.compute_sdf(mesh, points)
        for index, value in values.items():
            sdf[index] = value
        return sdf

    monkeypatch.setitem(backends.BACKENDS, "pysdf", backend)


def test_guard_recomputes_nonfinite_and_huge_values(monkeypatch):
    mesh, points = sphere(), sample_points(sphere(), 500)
    fake_backend(monkeypatch, {3: np.nan, 7: 1e18, 11: -np.inf})
    sdf, stats = gt.compute_sdf_guarded(gt.GroundTruth(mesh, "pysdf"), points)
    assert stats == {"method": "pysdf", "bad": 3, "recomputed": 3, "dropped": 0}
    np.testing.assert_allclose(sdf, gt.compute_sdf(mesh, points))


def test_guard_drops_what_the_exact_method_cannot_compute(monkeypatch):
    mesh, points = sphere(), sample_points(sphere(), 200)
    truth = gt.GroundTruth(mesh)

    def broken(points):
        sdf = np.linalg.norm(points, axis=1) - RADIUS
        sdf[:2] = np.nan
        return sdf

    monkeypatch.setattr(truth, "sdf", broken)
    sdf, stats = gt.compute_sdf_guarded(truth, points)
    assert stats == {"method": "exact", "bad": 2, "recomputed": 0, "dropped": 2}
    assert np.isnan(sdf[:2]).all() and np.isfinite(sdf[2:]).all()


def test_guard_keeps_legitimate_far_values():
    points = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [-1.0, -1.0, -1.0]])
    sdf, stats = gt.compute_sdf_guarded(gt.GroundTruth(sphere()), points)
    assert stats["bad"] == 0 and np.isfinite(sdf).all()


# --- every selectable method on a sphere -----------------------------------------------------


@pytest.mark.parametrize("method", gt.METHODS)
def test_method_on_sphere(method, monkeypatch):
    from implicit3d.groundtruth import backends

    reason = gt.backend_unavailable(method)
    if reason:
        pytest.skip(reason)
    monkeypatch.setattr(backends, "MESH_TO_SDF_SCANS", 20)  # keeps the test fast; defaults are 100 x 400^2
    monkeypatch.setattr(backends, "MESH_TO_SDF_RESOLUTION", 200)
    mesh = sphere(2)
    points = sample_points(mesh, 400 if method == "mesh_to_sdf" else 3000)
    sdf = gt.compute_sdf(mesh, points, method)
    assert sdf.dtype == np.float64 and sdf.shape == (len(points),)
    clear = clear_of_surface(points, 0.05)
    assert np.mean((sdf[clear] < 0) == analytic_inside(points[clear])) > 0.99
    tolerance = 0.03 if method == "mesh_to_sdf" else 1e-4  # mesh_to_sdf: distance to scanned points
    assert np.median(np.abs(np.abs(sdf) - exact_distance(mesh, points))) < tolerance


# --- watertight reference meshes (shared data, when present) ---------------------------------


def test_cgal_sample_both_signs_match_the_winding_number():
    files = sorted(CGAL_DIR.glob("*.ply"))
    if not files:
        pytest.skip(f"{CGAL_DIR} not found (shared test data)")
    from implicit3d.mesh import clean_mesh, load_mesh, normalize_mesh

    for path in files[:6]:
        mesh, _ = normalize_mesh(clean_mesh(load_mesh(path)))
        points = sample_points(mesh, 4000)
        reference = np.abs(gt.winding_number(mesh, points)) > 0.5  # watertight: the winding number is the truth
        for sign in SIGNS:
            agree = np.mean((gt.compute_sdf(mesh, points, sign=sign) < 0) == reference)
            assert agree > 0.999, (path.name, sign, agree)


def test_one_ground_truth_per_mesh_content_and_convention(sphere):
    """What an object's stages share when they run in one process (object_jobs: chain)."""
    GroundTruth = gt.GroundTruth
    first = GroundTruth.shared(sphere)
    assert GroundTruth.shared(sphere.copy()) is first  # the same content, loaded again
    assert GroundTruth.from_config(sphere, {"sign": "filled"}) is first
    solid = GroundTruth.shared(sphere, sign="solid")
    assert solid is not first and solid.sign == "solid"
    moved = sphere.copy().apply_translation((0.01, 0, 0))
    assert GroundTruth.shared(moved, sign="solid") is not solid


def test_max_distance_is_the_diagonal_of_the_joint_box():
    mesh = trimesh.creation.box(extents=(1.0, 2.0, 3.0))
    points = np.array([[4.0, 0.0, 0.0], [0.0, -2.0, 0.5]])
    both = np.vstack([points, mesh.vertices])
    assert gt.max_distance(mesh, points) == np.linalg.norm(both.max(axis=0) - both.min(axis=0))
    assert gt.max_distance(mesh, np.zeros((0, 3))) == np.linalg.norm([1.0, 2.0, 3.0])
