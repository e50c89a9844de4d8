"""Bad and dirty inputs through the normalize stage: one-line errors naming the file, or success."""

import numpy as np
import pytest
import trimesh
from corpus import BAD, DIRTY, FACE_LIMIT, write_corpus

from implicit3d.cli import main as cli_main
from implicit3d.errors import MeshError
from implicit3d.mesh import clean_mesh, load_mesh
from implicit3d.stages import normalize


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    write_corpus(folder)
    return folder


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_fails_with_one_line_naming_file_and_problem(corpus, tmp_path, name):
    _, fragment = BAD[name]
    with pytest.raises(MeshError) as info:
        normalize(corpus / name, tmp_path / "out.ply", tmp_path / "out.json", max_faces=FACE_LIMIT)
    message = str(info.value)
    assert message.startswith(f"{corpus / name}: ") and "\n" not in message
    assert fragment in message
    assert not list(tmp_path.iterdir())  # no half-written output


@pytest.mark.parametrize("name", sorted(DIRTY))
def test_dirty_but_valid_input_goes_through(corpus, tmp_path, name):
    info = normalize(corpus / name, tmp_path / "out.ply", tmp_path / "out.json", max_faces=FACE_LIMIT)
    mesh = trimesh.load(tmp_path / "out.ply", process=False)
    assert len(mesh.faces) == info["faces"] > 0
    assert np.linalg.norm(mesh.vertices, axis=1).max() == pytest.approx(1.0)


def test_flipped_faces_are_reoriented_outward(corpus):
    raw = load_mesh(corpus / "flipped.obj")
    assert not raw.is_winding_consistent
    mesh = clean_mesh(raw)
    assert mesh.is_winding_consistent and mesh.volume > 0
    inverted = trimesh.creation.box()
    inverted.invert()
    assert clean_mesh(inverted).volume > 0


def test_duplicate_faces_are_dropped(corpus):
    assert len(clean_mesh(load_mesh(corpus / "duplicate_faces.obj")).faces) == 12


def test_thin_solid_is_kept_but_float32_tilted_plane_is_flat(tmp_path):
    slab = trimesh.creation.box(extents=(1.0, 1.0, 1e-3))
    assert len(clean_mesh(slab).faces) == 12
    # A tilted plane stored in float32 is off-plane by rounding (~1e-7): still flat.
    plane = trimesh.creation.box().subdivide()
    plane.vertices[:, 2] = 0.0
    plane.apply_transform(trimesh.transformations.rotation_matrix(0.4, [1.0, 1.0, 0.0]))
    path = tmp_path / "plane.ply"
    plane.export(path)  # binary PLY: float32 coordinates
    with pytest.raises(MeshError, match="all vertices lie in one plane"):
        clean_mesh(load_mesh(path), path)


def test_collinear_faces_are_a_line(tmp_path):
    path = tmp_path / "line.obj"
    path.write_text("v 0 0 0\nv 1 1 1\nv 2 2 2\nv 3 3 3\nf 1 2 3\nf 2 3 4\n")
    with pytest.raises(MeshError, match="all vertices lie on one line"):
        clean_mesh(load_mesh(path), path)


def test_overflowing_coordinates(tmp_path):
    path = tmp_path / "huge.obj"
    path.write_text("v -1e12 0 0\nv 1e12 0 0\nv 0 1 0\nv 0 0 1\nf 1 2 3\nf 1 3 4\nf 2 3 4\n")
    with pytest.raises(MeshError, match="coordinates reach 1e\\+12, too large"):
        load_mesh(path)


def test_large_mesh_is_decimated_to_the_face_limit_when_asked(tmp_path):
    path = tmp_path / "dense.obj"
    trimesh.creation.icosphere(subdivisions=5).export(path)  # 20480 faces
    with pytest.raises(MeshError, match="20480 faces exceed the limit of 2000"):
        normalize(path, tmp_path / "a.ply", tmp_path / "a.json", max_faces=2000)
    info = normalize(path, tmp_path / "b.ply", tmp_path / "b.json", max_faces=2000, decimate=True)
    assert info["decimated"] and info["faces_in"] == 20480 and 1000 < info["faces"] <= 2000
    out = trimesh.load(tmp_path / "b.ply", process=False)
    assert out.is_watertight  # quadric decimation keeps a closed sphere closed
    small = normalize(path, tmp_path / "c.ply", tmp_path / "c.json", max_faces=50000, decimate=True)
    assert not small["decimated"] and small["faces"] == 20480


def test_decimation_without_its_package_says_what_to_install(tmp_path, monkeypatch):
    def missing(*args, **kwargs):
        raise ImportError("No module named 'fast_simplification'")

    monkeypatch.setattr(trimesh.Trimesh, "simplify_quadric_decimation", missing)
    path = tmp_path / "dense.obj"
    trimesh.creation.icosphere(subdivisions=3).export(path)
    with pytest.raises(MeshError, match="pip install fast-simplification"):
        normalize(path, tmp_path / "a.ply", tmp_path / "a.json", max_faces=100, decimate=True)


def test_cli_prints_one_line_and_exits_1(corpus, tmp_path, capsys):
    code = cli_main(["normalize", str(corpus / "nonfinite.obj"), "-o", str(tmp_path / "x.ply")])
    err = capsys.readouterr().err
    assert code == 1
    assert err.strip().count("\n") == 0 and "vertices are NaN or infinite" in err
