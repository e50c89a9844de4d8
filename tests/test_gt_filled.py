"""The `filled` sign: the seal, see-through spaces, and the boundary of the filled solid."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapes
import trimesh
from test_gt_conventions import cracked_box

from implicit3d.groundtruth import GroundTruth
from implicit3d.sampling import SamplingSpec, SplitSpec, sample_all

OUTER, INNER = (1.2, 1.0, 0.8), (1.1, 0.9, 0.7)


def double_walled_box() -> trimesh.Trimesh:
    return trimesh.util.concatenate([shapes.box(OUTER), shapes.inward(shapes.box(INNER))])


def test_seal_decides_whether_a_crack_is_closed():
    interior = shapes.in_box(np.random.default_rng(0).uniform(-0.4, 0.4, (3000, 3)), (0.8, 0.6, 0.6))
    points = np.random.default_rng(0).uniform(-0.4, 0.4, (3000, 3))[interior]
    box = cracked_box(crack=0.06)
    assert (GroundTruth(box, seal=0.1).sdf(points) < 0).all()  # 0.06 < seal: closed
    assert (GroundTruth(box, seal=0.04).sdf(points) > 0).all()  # 0.06 > seal: an opening


def test_cavity_walls_are_not_part_of_the_filled_solid():
    truth = GroundTruth(double_walled_box())
    outer_faces = 12
    assert truth.report()["surface_faces"] == outer_faces
    assert np.array_equal(truth.convention.boundary_faces, np.arange(24) < outer_faces)
    # An inside point measures to the outer wall, not to the nearer cavity wall.
    point = np.array([[0.0, 0.0, 0.3]])  # 0.05 below the inner top, 0.1 below the outer top
    assert truth.sdf(point)[0] == pytest.approx(-0.1)
    # Near-surface samples are drawn on the outer box only.
    spec = SamplingSpec(train=SplitSpec(4000, (0.005,), 0), val=SplitSpec(10, (0.005,), 0), test=SplitSpec(10, (0.005,), 0))
    frame, _ = sample_all(double_walled_box(), spec, truth)
    near = frame[["x", "y", "z"]].to_numpy(np.float64)
    by_inner = shapes.in_box(near, INNER, margin=-0.02) & ~shapes.in_box(near, INNER, margin=0.02)
    assert not by_inner.any()
    # Samples near a cavity wall would lie 0.05 or more inside the filled solid's boundary.
    assert np.abs(frame["sdf"]).max() < 0.04


def wheel(spokes: int = 24) -> trimesh.Trimesh:
    """Hub, rim and thin spokes in the plane z = 0: the gaps near the hub are narrower than the seal."""
    parts = [trimesh.creation.cylinder(radius=0.1, height=0.06, sections=48), trimesh.creation.torus(0.7, 0.03)]
    for k in range(spokes):
        spoke = shapes.box((0.62, 0.015, 0.015), (0.4, 0.0, 0.0))
        spoke.apply_transform(trimesh.transformations.rotation_matrix(2 * np.pi * k / spokes, (0, 0, 1)))
        parts.append(spoke)
    return trimesh.util.concatenate(parts)


def test_narrow_gaps_seen_from_outside_stay_outside():
    # Between the spokes near the hub: gaps of about 0.03, sealed for paths, but open to the sky.
    angle = (np.arange(24) + 0.5) * 2 * np.pi / 24
    points = np.column_stack([0.18 * np.cos(angle), 0.18 * np.sin(angle), np.zeros(24)])
    assert (GroundTruth(wheel()).sdf(points) > 0).all()


def cage(bars: int = 12, size: float = 1.0, bar: float = 0.02) -> trimesh.Trimesh:
    """A cube cage of thin bars spaced below the seal: its inside is a sealed cavity, yet see-through."""
    parts = []
    ticks = np.linspace(-size / 2, size / 2, bars)
    for axis in range(3):
        u, v = [k for k in range(3) if k != axis]
        for a in ticks:
            for b in (ticks[0], ticks[-1]):
                for first, second in ((a, b), (b, a)):
                    center = np.zeros(3)
                    center[u], center[v] = first, second
                    extents = np.full(3, bar)
                    extents[axis] = size
                    parts.append(shapes.box(extents, center))
    return trimesh.util.concatenate(parts)


def test_see_through_cavity_is_outside():
    mesh = cage()
    truth = GroundTruth(mesh)
    assert truth.report()["see_through_cavities"] >= 1  # the grid seals the cage, the rays see through it
    inside_cage = np.random.default_rng(3).uniform(-0.3, 0.3, (500, 3))
    assert (truth.sdf(inside_cage) > 0).all()


def test_seal_too_small_for_the_grid_says_so():
    with pytest.raises(ValueError, match=r"seal 0\.001 is too small .* use a seal above"):
        GroundTruth(shapes.box((1.6, 1.6, 1.6)), seal=0.001)


def test_cli_sdf_takes_the_sign_convention(tmp_path, capsys):
    from implicit3d.cli import main

    mesh_path, points_path = tmp_path / "double.obj", tmp_path / "points.npy"
    double_walled_box().export(mesh_path)
    np.save(points_path, np.array([[0.0, 0.0, 0.0], [0.575, 0.0, 0.0], [0.9, 0.0, 0.0]]))  # cavity, wall, outside
    signs = {}
    for sign in ("filled", "solid"):
        out = tmp_path / f"{sign}.npy"
        assert main(["sdf", str(mesh_path), str(points_path), "-o", str(out), "--sign", sign, "--frame", "original"]) == 0
        assert f"{sign} sign" in capsys.readouterr().out
        signs[sign] = np.load(out) < 0
    assert signs["filled"].tolist() == [True, True, False]
    assert signs["solid"].tolist() == [False, True, False]
    assert main(["sdf", str(mesh_path), str(points_path), "-o", str(tmp_path / "x.npy"), "--seal", "0.0001"]) == 1
    assert "seal 0.0001 is too small" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["double-walled box", "wheel", "cage", "chair of quads", "helmet"])
def test_side_labels_taken_from_the_normals_first_hit_are_those_of_ray_queries(name):
    """Each face side's probe takes its first ray's first hit from the side's depth cast: a sample
    on that ray is reached exactly when it lies before the hit, as a query of the segment says."""
    from implicit3d.groundtruth.distance import Closest
    from implicit3d.groundtruth.filled import PROBE_OFFSET
    from implicit3d.groundtruth.morton import morton_order
    from implicit3d.meshfile import read_mesh

    meshes = {
        "double-walled box": double_walled_box,
        "wheel": wheel,
        "cage": cage,
        "chair of quads": lambda: shapes.quad_chair(np.random.default_rng(0)),
        "helmet": lambda: read_mesh(Path(__file__).resolve().parents[1] / "data" / "sample_meshes" / "helmet.ply"),
    }
    sign = GroundTruth(meshes[name]()).convention
    index = np.flatnonzero(sign.proper)
    index = index[morton_order(sign.center[index])]
    for column, side in ((0, 1.0), (1, -1.0)):
        facing = side * sign.normal[index]
        probes = sign.center[index] + PROBE_OFFSET * facing
        queried = sign.link(probes, Closest.on_faces(index, sign.center[index], PROBE_OFFSET), inherit=False, facing=facing)
        np.testing.assert_array_equal(sign.side_label[index, column], queried)
    assert len(np.unique(sign.side_label[index])) > 1  # sides lead to different places
