import json

import numpy as np
import pytest
import torch
import trimesh

from implicit3d.errors import Implicit3DError
from implicit3d.meshfile import read_mesh, write_mesh
from implicit3d.models import HashGridSDF, build_model
from implicit3d.reconstruct import (
    EMPTY_NOTE,
    directed_metrics,
    domain_sdf,
    grid_axis,
    marching_cubes,
    reconstruct_mesh,
    sdf_grid,
    surface_metrics,
)
from implicit3d.stages import reconstruct
from implicit3d.training import save_model


class Sphere(torch.nn.Module):
    """Analytic SDF of a sphere: the exact answer marching cubes should find."""

    def __init__(self, radius=0.5, center=(0.0, 0.0, 0.0)):
        super().__init__()
        self.radius, self.center = radius, torch.tensor(center)

    def forward(self, x):
        return (x - self.center).norm(dim=-1) - self.radius


class Constant(torch.nn.Module):
    def __init__(self, value):
        super().__init__()
        self.value = value

    def forward(self, x):
        return torch.full((x.shape[0],), self.value)


def full_grid(model, resolution, domain):
    """Every grid point asked of the model, then clipped to the domain: what sdf_grid stands for."""
    axis = grid_axis(resolution)
    points = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), -1).reshape(-1, 3)
    with torch.no_grad():
        values = model(torch.from_numpy(points).float()).numpy()
    return np.maximum(values, domain_sdf(points, domain)).reshape((resolution,) * 3).astype(np.float32), axis


@pytest.mark.parametrize("domain", ["sphere", "cube"])
@pytest.mark.parametrize("shape", ["ball across the domain", "hash grid"])
def test_grid_points_far_outside_the_domain_change_no_mesh(domain, shape):
    torch.manual_seed(0)
    model = Sphere(0.8, (0.3, 0.0, 0.0)) if shape == "ball across the domain" else HashGridSDF(levels=3, log2_table=8, base_resolution=4, max_resolution=16, init_scale=0.5)
    grid, axis = sdf_grid(model, 40, domain)
    reference, _ = full_grid(model, 40, domain)
    inside = domain_sdf(np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), -1), domain) <= np.sqrt(3.0) * (axis[1] - axis[0])
    assert np.array_equal(grid[inside], reference[inside]) and not inside.all()
    mesh, expected = marching_cubes(grid, axis), marching_cubes(reference, axis)
    assert len(mesh.faces) > 100
    assert np.array_equal(mesh.vertices, expected.vertices) and np.array_equal(mesh.faces, expected.faces)


def test_sphere_is_reconstructed_closed_outward_and_on_the_radius():
    mesh = reconstruct_mesh(Sphere(0.5), resolution=64)
    assert mesh.is_watertight and mesh.is_winding_consistent
    assert mesh.volume > 0  # outward normals
    assert mesh.volume == pytest.approx(4 / 3 * np.pi * 0.5**3, rel=0.01)
    radii = np.linalg.norm(mesh.vertices, axis=1)
    assert np.abs(radii - 0.5).max() < 1e-3  # vertices interpolated onto the level set


def test_off_center_sphere_keeps_its_position():
    mesh = reconstruct_mesh(Sphere(0.3, (0.2, -0.1, 0.4)), resolution=64)
    assert mesh.centroid == pytest.approx([0.2, -0.1, 0.4], abs=2e-3)


def test_all_outside_gives_no_mesh():
    assert reconstruct_mesh(Constant(1.0), resolution=16) is None


def test_all_inside_is_clipped_to_the_sampled_volume():
    # A model that says 'inside' everywhere: the surface is the domain's boundary.
    ball = reconstruct_mesh(Constant(-1.0), resolution=48, domain="sphere")
    assert np.linalg.norm(ball.vertices, axis=1).max() == pytest.approx(1.0, abs=1e-3)
    cube = reconstruct_mesh(Constant(-1.0), resolution=48, domain="cube")
    assert cube.volume == pytest.approx(8.0, rel=0.01)
    assert reconstruct_mesh(Constant(-1.0), resolution=16, domain="none") is None  # no zero crossing at all


def test_grid_covers_the_unit_domain_with_a_margin():
    axis = grid_axis(32)
    assert axis[0] < -1.0 and axis[-1] > 1.0 and len(axis) == 32
    with pytest.raises(Implicit3DError, match="too small"):
        grid_axis(4)


def test_domain_sdf():
    pts = np.array([[0.0, 0, 0], [2.0, 0, 0], [0.8, 0.8, 0.8]])
    assert domain_sdf(pts, "sphere") == pytest.approx([-1.0, 1.0, np.sqrt(3 * 0.64) - 1.0])
    assert domain_sdf(pts, "cube") == pytest.approx([-1.0, 1.0, -0.2])
    with pytest.raises(ValueError, match="unknown domain"):
        domain_sdf(pts, "torus")


def test_non_finite_predictions_fail_clearly():
    with pytest.raises(Implicit3DError, match="non-finite"):
        sdf_grid(Constant(float("nan")), 16)


def test_marching_cubes_of_a_grid_without_crossing_is_none():
    axis = grid_axis(8)
    assert marching_cubes(np.ones((8, 8, 8), np.float32), axis) is None
    assert marching_cubes(-np.ones((8, 8, 8), np.float32), axis) is None


def test_chamfer_of_identical_meshes_is_zero_and_normals_agree():
    mesh = trimesh.creation.icosphere(subdivisions=3, radius=0.7)
    m = surface_metrics(mesh, mesh, count=5000)
    assert m["chamfer"] == pytest.approx(0.0, abs=1e-12)
    assert m["normal_consistency"] == pytest.approx(1.0)
    assert m["recon_note"] is None


def test_chamfer_of_concentric_spheres_is_the_radius_gap():
    inner = trimesh.creation.icosphere(subdivisions=5, radius=0.5)
    outer = trimesh.creation.icosphere(subdivisions=5, radius=0.6)
    m = surface_metrics(inner, outer, count=20000)
    assert m["chamfer_accuracy"] == pytest.approx(0.1, abs=2e-3)
    assert m["chamfer_completeness"] == pytest.approx(0.1, abs=2e-3)
    assert m["chamfer"] == pytest.approx(0.1, abs=2e-3)
    assert m["normal_consistency"] > 0.99  # parallel surfaces


def test_normal_consistency_ignores_orientation_but_sees_wrong_directions():
    box = trimesh.creation.box(extents=(1, 1, 1))
    flipped = box.copy()
    flipped.invert()
    assert surface_metrics(flipped, box, count=2000)["normal_consistency"] == pytest.approx(1.0)
    # A sphere inscribed in the box: normals mostly not parallel to the faces'.
    sphere = trimesh.creation.icosphere(subdivisions=4, radius=0.5)
    assert surface_metrics(sphere, box, count=5000)["normal_consistency"] < 0.95


def test_surface_distance_is_the_exact_distance_to_the_faces():
    source = trimesh.creation.icosphere(subdivisions=2, radius=0.45)
    target = trimesh.creation.box(extents=(1.0, 0.8, 0.6))
    points, _ = trimesh.sample.sample_surface(source, 500, seed=3)  # the points directed_metrics draws
    _, distance, _ = trimesh.proximity.closest_point(target, points)
    accuracy, _ = directed_metrics(source, target, 500, seed=3)
    assert accuracy == pytest.approx(float(np.mean(distance)), abs=1e-9)


def test_empty_reconstruction_gives_nan_and_a_note():
    truth = trimesh.creation.icosphere(subdivisions=2)
    m = surface_metrics(None, truth)
    assert np.isnan(m["chamfer"]) and np.isnan(m["normal_consistency"])
    assert m["recon_note"] == EMPTY_NOTE


def test_empty_mesh_is_a_valid_ply(tmp_path):
    write_mesh(tmp_path / "empty.ply", None)
    loaded = trimesh.load(tmp_path / "empty.ply", force="mesh")
    assert len(loaded.faces) == 0


def _save(model, path, arch, hparams):
    save_model(path, model, arch, hparams, "float32")
    return str(path)


def test_reconstruct_object_writes_mesh_and_metrics(tmp_path, sphere):
    # An MLP whose last bias makes it predict 'outside' everywhere: the empty case end to end.
    hp = {"hidden": 8, "layers": 2, "skip": None}
    model = build_model("mlp", **hp)
    with torch.no_grad():
        model.out.weight.zero_()
        model.out.bias.fill_(1.0)
    model_path = _save(model, tmp_path / "m.pt", "mlp", hp)
    truth = tmp_path / "truth.ply"
    sphere.export(truth)
    rec = reconstruct(model_path, str(truth), str(tmp_path / "r.ply.xz"), str(tmp_path / "r.json"), "ball", "mlp", resolution=16)
    assert rec["recon_note"] == EMPTY_NOTE and rec["recon_faces"] == 0
    saved = json.loads((tmp_path / "r.json").read_text().replace("NaN", "null"))
    assert saved["chamfer"] is None and saved["object"] == "ball"
    assert len(read_mesh(tmp_path / "r.ply.xz").faces) == 0

    with torch.no_grad():
        model.out.bias.fill_(-1.0)  # now 'inside' everywhere: the surface is the unit sphere
    model_path = _save(model, tmp_path / "m2.pt", "mlp", hp)
    rec = reconstruct(model_path, str(truth), str(tmp_path / "r2.ply"), str(tmp_path / "r2.json"), "ball", "mlp", resolution=32, surface_points=2000)
    assert rec["recon_note"] is None and rec["recon_faces"] > 0
    assert rec["chamfer"] == pytest.approx(0.2, abs=0.02)  # unit sphere vs the r=0.8 fixture
