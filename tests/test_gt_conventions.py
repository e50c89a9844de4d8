"""The two sign conventions on synthetic meshes whose inside is known: `filled` (enclosed
cavities inside) and `solid` (the material as modelled), each alone and under damage."""

from __future__ import annotations

import numpy as np
import pytest
import shapes
import trimesh

from implicit3d.groundtruth import GroundTruth
from implicit3d.groundtruth.winding import unrepaired_sdf

POINTS = np.random.default_rng(1).uniform(-1.0, 1.0, size=(20000, 3))


def inside(mesh: trimesh.Trimesh, sign: str, points: np.ndarray = POINTS) -> np.ndarray:
    return GroundTruth(mesh, "exact", sign).sdf(points) < 0


def off_boxes(points: np.ndarray, boxes, margin: float = 0.015) -> np.ndarray:
    """Points farther than `margin` from every face of the given boxes."""
    near = np.zeros(len(points), dtype=bool)
    for extents, center in boxes:
        near |= shapes.in_box(points, extents, center, -margin) & ~shapes.in_box(points, extents, center, margin)
    return ~near


@pytest.mark.parametrize("inner_facing", ["inward", "outward"])
def test_double_walled_box_filled_is_whole_solid_is_walls(inner_facing):
    outer, inner = (1.2, 1.0, 0.8), (1.1, 0.9, 0.7)
    inner_box = shapes.box(inner)
    mesh = trimesh.util.concatenate([shapes.box(outer), shapes.inward(inner_box) if inner_facing == "inward" else inner_box])
    clear = off_boxes(POINTS, [(outer, (0, 0, 0)), (inner, (0, 0, 0))])
    whole = shapes.in_box(POINTS, outer)
    walls = whole & ~shapes.in_box(POINTS, inner)
    assert np.array_equal(inside(mesh, "filled")[clear], whole[clear])
    # As given the inner box may face either way: its nesting depth says it bounds a cavity.
    assert np.array_equal(inside(mesh, "solid")[clear], walls[clear])


def test_open_topped_cup_cavity_is_outside_under_both():
    cup = shapes.cup()  # walls 0.1 thick, cavity r < 0.4 above z = -0.3, open at the top
    r, z = np.linalg.norm(POINTS[:, :2], axis=1), POINTS[:, 2]
    material = (r < 0.5) & (np.abs(z) < 0.4) & ~((r < 0.4) & (z > -0.3))
    cavity = (r < 0.38) & (z > -0.28) & (z < 0.38)
    clear = (np.abs(r - 0.5) > 0.02) & (np.abs(r - 0.4) > 0.02) & (np.abs(np.abs(z) - 0.4) > 0.02) & (np.abs(z + 0.3) > 0.02)
    assert cavity.sum() > 500
    for sign in ("filled", "solid"):
        got = inside(cup, sign)
        assert np.array_equal(got[clear], material[clear]), sign
        assert not got[cavity].any(), sign


def cracked_box(crack: float, wall: float = 0.03, extents=(1.0, 0.8, 0.8)) -> trimesh.Trimesh:
    """Five wall plates (closed thin boxes) and a lid lifted by `crack` above them."""
    ex, ey, ez = extents
    plates = [
        shapes.box((ex, ey, wall), (0, 0, -ez / 2 + wall / 2)),
        shapes.box((wall, ey, ez), (-ex / 2 + wall / 2, 0, 0)),
        shapes.box((wall, ey, ez), (ex / 2 - wall / 2, 0, 0)),
        shapes.box((ex, wall, ez), (0, -ey / 2 + wall / 2, 0)),
        shapes.box((ex, wall, ez), (0, ey / 2 - wall / 2, 0)),
        shapes.box((ex, ey, wall), (0, 0, ez / 2 + wall / 2 + crack)),
    ]
    return trimesh.util.concatenate(plates)


def test_box_with_a_crack_narrower_than_the_seal_is_filled():
    interior = shapes.in_box(POINTS, (0.94 - 0.04, 0.74 - 0.04, 0.74 - 0.04))
    assert interior.sum() > 1000
    assert inside(cracked_box(crack=0.03), "filled")[interior].all()
    # solid: the plates are the material, the air inside them is not.
    assert not inside(cracked_box(crack=0.03), "solid")[interior].any()


def test_box_with_an_opening_wider_than_the_seal_is_open():
    interior = shapes.in_box(POINTS, (0.9, 0.7, 0.7))
    assert not inside(cracked_box(crack=0.25), "filled")[interior].any()


def test_chair_of_disconnected_flipped_quads_with_hairline_gaps():
    # Six beams, each six separate two-triangle quads: no shared vertices, a 0.002 gap along
    # every edge, half of the quads flipped at random.
    chair = shapes.quad_chair(np.random.default_rng(0))
    beams = shapes.in_chair(POINTS)
    clear = shapes.in_chair(POINTS, 0.02) | ~shapes.in_chair(POINTS, -0.02)
    assert beams[clear].sum() > 200
    for sign in ("filled", "solid"):
        got = inside(chair, sign)
        # filled: 22 of 19,515 beam points link outside through the hairline gaps since the
        # exact (libigl) distances replaced fcpw's; tracked as a follow-up.
        assert np.mean(got[clear] == beams[clear]) > 0.998, sign


def bent_pocket() -> tuple[trimesh.Trimesh, np.ndarray]:
    """A block with an L-shaped tunnel 0.25 wide: down from the top, then sideways to a dead
    end that no straight line from outside reaches. Returns the mesh and points in the dead end."""
    pitch, origin = 0.05, np.array([-0.6, -0.6, -0.4]) + 0.025
    occupied = np.ones((24, 24, 16), dtype=bool)
    centers = origin + np.argwhere(occupied) * pitch
    x, y, z = centers.T
    tunnel = (np.abs(y) < 0.125) & (z > -0.2) & (((x > -0.45) & (x < -0.2)) | ((x > -0.45) & (x < 0.45) & (z < 0.05)))
    occupied[tuple(np.argwhere(occupied)[tunnel].T)] = False
    mesh = shapes.voxel_solid(occupied, pitch, origin)
    rng = np.random.default_rng(2)
    dead_end = np.column_stack([rng.uniform(0.2, 0.38, 300), rng.uniform(-0.08, 0.08, 300), rng.uniform(-0.15, 0.0, 300)])
    return mesh, dead_end


def test_deep_pocket_reachable_only_along_a_bent_path_is_outside():
    mesh, dead_end = bent_pocket()
    assert not inside(mesh, "filled", dead_end).any()
    assert not inside(mesh, "solid", dead_end).any()
    # What a fixed bundle of rays gets wrong: no ray from the dead end leaves the block.
    from implicit3d.groundtruth.rays import Rays, sphere_directions

    rays = Rays(mesh.vertices, mesh.faces)
    assert not any(rays.escapes(dead_end, d).any() for d in sphere_directions(64))


def test_nested_shells_whatever_their_facing():
    # Shells at r = 0.8, 0.6, 0.4: material between 0.6 and 0.8, a cavity, a ball inside it.
    shells = [trimesh.creation.icosphere(4, r) for r in (0.8, 0.6, 0.4)]
    r = np.linalg.norm(POINTS, axis=1)
    clear = np.all([np.abs(r - s) > 0.02 for s in (0.8, 0.6, 0.4)], axis=0)
    solid = (r < 0.4) | ((r > 0.6) & (r < 0.8))
    for facing in ("modelled", "all outward", "all inward"):
        parts = {
            "modelled": [shells[0], shapes.inward(shells[1]), shells[2]],
            "all outward": shells,
            "all inward": [shapes.inward(s) for s in shells],
        }[facing]
        mesh = trimesh.util.concatenate(parts)
        assert np.array_equal(inside(mesh, "filled")[clear], (r < 0.8)[clear]), facing
        assert np.array_equal(inside(mesh, "solid")[clear], solid[clear]), facing


def damaged(mesh: trimesh.Trimesh, seed: int) -> trimesh.Trimesh:
    """5 % of the faces removed (holes of one triangle), then 20 % of the rest flipped."""
    rng = np.random.default_rng(seed)
    return shapes.flip_some(shapes.punch_holes(mesh, 0.05, rng), 0.2, rng)


def fine_gear() -> trimesh.Trimesh:
    gear = shapes.gear()
    vertices, faces = trimesh.remesh.subdivide_to_size(gear.vertices, gear.faces, 0.04)
    return trimesh.Trimesh(vertices, faces, process=False)


@pytest.mark.parametrize("name", ["sphere", "gear"])
def test_holes_with_flipped_faces_keep_the_intact_sign(name):
    # A curved closed mesh, and one of many thin overlapping parts (24 teeth 0.04 wide).
    intact = trimesh.creation.icosphere(4, 0.8) if name == "sphere" else fine_gear()
    points, near = shapes.near_and_volume(intact, 16000)
    broken = damaged(intact, seed=0)
    for sign in ("filled", "solid"):
        before, after = inside(intact, sign, points), inside(broken, sign, points)
        assert np.mean(before[:near] == after[:near]) >= 0.98, sign
        assert np.mean(before[near:] == after[near:]) >= 0.995, sign
    # The unrepaired winding number of the mesh as given does not survive this.
    winding = unrepaired_sdf(broken, points[:near]) < 0
    assert np.mean(winding == inside(intact, "solid", points[:near])) < 0.95


def test_intact_gear_matches_its_analytic_inside():
    gear = fine_gear()
    points, near = shapes.near_and_volume(gear, 16000)
    truth = shapes.in_gear(points)
    for sign in ("filled", "solid"):
        assert np.mean(inside(gear, sign, points) == truth) > 0.99, sign
