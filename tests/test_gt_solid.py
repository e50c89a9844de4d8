"""The `solid` sign's orientation repair: per patch, by visibility, and by nesting depth."""

from __future__ import annotations

import numpy as np
import shapes
import trimesh

from implicit3d.groundtruth import GroundTruth
from implicit3d.groundtruth.orientation import orient
from implicit3d.groundtruth.rays import Rays


def repaired(mesh: trimesh.Trimesh):
    return orient(mesh.vertices, mesh.faces, Rays(mesh.vertices, mesh.faces))


def test_partly_flipped_faces_are_turned_back():
    mesh = trimesh.creation.icosphere(3, 0.6)
    flip = np.random.default_rng(1).random(len(mesh.faces)) < 0.1
    broken = trimesh.Trimesh(mesh.vertices, np.where(flip[:, None], mesh.faces[:, ::-1], mesh.faces), process=False)
    result = repaired(broken)
    np.testing.assert_array_equal(result.faces, mesh.faces)
    assert result.report() == {"patches": 1, "flipped_faces": int(flip.sum()), "enclosed_patches": 0}


def test_inverted_parts_turn_outward_and_good_meshes_stay():
    good = trimesh.util.concatenate([trimesh.creation.icosphere(3, 0.4), shapes.box((0.4, 0.4, 0.4), (0.6, 0, 0))])
    result = repaired(good)
    np.testing.assert_array_equal(result.faces, good.faces)
    inverted = shapes.inward(good)
    np.testing.assert_array_equal(repaired(inverted).faces, good.faces)


def test_a_part_inside_another_is_oriented_by_nesting():
    # An enclosed shell (no ray reaches it) inside another: a cavity wall, so it faces inward.
    outer, inner = trimesh.creation.icosphere(3, 0.8), trimesh.creation.icosphere(3, 0.5)
    result = repaired(trimesh.util.concatenate([outer, inner]))
    assert result.report()["enclosed_patches"] == 1
    np.testing.assert_array_equal(result.faces[len(outer.faces):], inner.faces[:, ::-1] + len(outer.vertices))


def test_zero_thickness_sheets_have_no_material():
    # An open box of single sheets (no lid): nothing is enclosed, and solid finds no material.
    box = shapes.box((1.0, 1.0, 1.0))
    open_box = trimesh.Trimesh(box.vertices, box.faces[box.face_normals[:, 2] < 0.5], process=False)
    points = np.random.default_rng(0).uniform(-0.45, 0.45, (2000, 3))
    assert not (GroundTruth(open_box, sign="solid").sdf(points) < 0).any()
    assert not (GroundTruth(open_box, sign="filled").sdf(points) < 0).any()
