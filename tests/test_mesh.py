import numpy as np
import pytest
import trimesh

from implicit3d.errors import MeshError
from implicit3d.mesh import Transform, clean_mesh, load_mesh, mesh_digest, normalize_mesh


def test_normalize_centers_bbox_and_fits_unit_sphere(box_file):
    mesh, transform = normalize_mesh(clean_mesh(load_mesh(box_file)))
    v = mesh.vertices
    np.testing.assert_allclose((v.max(0) + v.min(0)) / 2, 0.0, atol=1e-12)
    assert np.linalg.norm(v, axis=1).max() == pytest.approx(1.0)
    np.testing.assert_allclose(transform.center, (5.0, -3.0, 1.0), atol=1e-12)
    assert transform.scale == pytest.approx(np.linalg.norm([1.0, 0.5, 0.25]))


def test_transform_round_trip():
    t = Transform(center=(1.0, 2.0, 3.0), scale=2.5)
    p = np.random.default_rng(0).normal(size=(10, 3))
    np.testing.assert_allclose(t.to_normalized(t.to_original(p)), p)
    assert Transform.from_dict(t.as_dict()) == t


def test_clean_merges_duplicates_and_drops_degenerate_faces():
    box = trimesh.creation.box()
    soup = trimesh.Trimesh(box.vertices[box.faces].reshape(-1, 3), np.arange(36).reshape(12, 3), process=False)
    faces = np.vstack([soup.faces, soup.faces[:2], [[0, 0, 1]]])  # duplicated + degenerate
    cleaned = clean_mesh(trimesh.Trimesh(soup.vertices, faces, process=False))
    assert len(cleaned.vertices) == 8
    assert len(cleaned.faces) == 12
    assert cleaned.is_watertight


def test_scene_geometry_is_merged(tmp_path):
    scene = trimesh.Scene([trimesh.creation.box(), trimesh.creation.icosphere().apply_translation((3, 0, 0))])
    path = tmp_path / "scene.glb"
    scene.export(path)
    mesh = load_mesh(path)
    assert mesh.body_count == 2


def test_digest_changes_with_geometry(sphere):
    moved = sphere.copy()
    moved.apply_translation((0.1, 0, 0))
    assert mesh_digest(sphere) == mesh_digest(sphere.copy())
    assert mesh_digest(sphere) != mesh_digest(moved)


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("empty.obj", b"", "empty file"),
        ("notes.xyz", b"1 2 3\n", "unknown mesh format"),
        ("corrupt.ply", b"ply\nformat binary_little_endian 1.0\nelement vertex 99\n", "cannot be parsed"),
        ("points.obj", b"v 0 0 0\nv 1 0 0\nv 0 1 0\n", "no triangle faces"),
        ("nan.obj", b"v 0 0 0\nv nan 0 0\nv 0 1 0\nf 1 2 3\n", "NaN or infinite"),
        ("flat.obj", b"v 0 0 0\nv 1 0 0\nv 2 0 0\nf 1 2 3\n", None),
    ],
)
def test_bad_input_raises_one_line_error_naming_file(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(MeshError) as info:
        clean_mesh(load_mesh(path), path)
    text = str(info.value)
    assert str(path) in text and "\n" not in text
    if message:
        assert message in text


def test_face_limit(box_file):
    with pytest.raises(MeshError, match="exceed the limit of 4"):
        load_mesh(box_file, max_faces=4)
