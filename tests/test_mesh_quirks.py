"""The quirks of real dataset files load as the geometry they hold (tests/dataset_trees.py writes them)."""

import dataset_trees as datasets
import numpy as np
import trimesh

from implicit3d.mesh import clean_mesh, load_mesh


def test_modelnets_malformed_off_header(tmp_path):
    mesh = datasets.solid(1)
    (tmp_path / "chair_0001.off").write_text(datasets.off_text(mesh, malformed=True))
    assert (tmp_path / "chair_0001.off").read_text().startswith(f"OFF{len(mesh.vertices)} {len(mesh.faces)} 0\n")
    loaded = load_mesh(tmp_path / "chair_0001.off")
    assert np.allclose(loaded.vertices, mesh.vertices, atol=1e-6) and (loaded.faces == mesh.faces).all()


def test_upper_case_extensions(tmp_path):
    mesh = datasets.solid(0)
    for name in ("part.STL", "part.OBJ", "part.PLY"):
        mesh.export(tmp_path / name, file_type=name.rsplit(".", 1)[1].lower())
        assert np.isclose(load_mesh(tmp_path / name).area, mesh.area)


def test_obj_with_missing_material_and_texture_and_several_groups(tmp_path):
    """ShapeNet's OBJ: `mtllib` (here missing), groups, a material whose texture is missing."""
    mesh = datasets.solid(1)
    datasets._obj_with_material(mesh, tmp_path / "with_mtl" / "model.obj", "../images/missing.jpg")
    datasets._obj_with_material(mesh, tmp_path / "no_mtl" / "model.obj", "missing.jpg")
    (tmp_path / "no_mtl" / "model.mtl").unlink()
    for folder in ("with_mtl", "no_mtl"):
        text = (tmp_path / folder / "model.obj").read_text()
        assert "mtllib" in text and text.count("\ng ") == 2
        loaded = clean_mesh(load_mesh(tmp_path / folder / "model.obj"))
        assert len(loaded.faces) == len(mesh.faces) and np.isclose(loaded.volume, mesh.volume)


def test_a_glb_scenes_node_transforms_are_applied(tmp_path):
    uid = datasets.objaverse(tmp_path)[0]
    loaded = load_mesh(next(tmp_path.glob(f"glbs/*/{uid}.glb")))
    part = datasets.solid(0).apply_translation([3.0, 0, 0])
    twin = datasets.solid(1).apply_scale(0.5)
    expected = trimesh.util.concatenate([part, twin])
    assert np.allclose(loaded.bounds, expected.bounds, atol=1e-6)
    assert np.isclose(loaded.area, expected.area, rtol=1e-6)
