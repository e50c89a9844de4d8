"""One mesh simplifier for normalize.decimate, the renderings and the viewer."""

import pytest
import trimesh

from implicit3d.simplify import SimplifyError, simplify


@pytest.fixture
def dense():
    return trimesh.creation.icosphere(subdivisions=6, radius=0.5)  # 81,920 faces


def test_cluster_bounds_faces_and_keeps_the_shape(dense):
    small = simplify(dense, 5000, method="cluster")
    assert 1000 < len(small.faces) <= 5000
    assert small.bounds == pytest.approx(dense.bounds, abs=0.05)
    assert simplify(dense, 10**6, method="cluster") is dense


def test_quadric_keeps_a_closed_mesh_closed(dense):
    small = simplify(dense, 2000)
    assert 1000 < len(small.faces) <= 2000 and small.is_watertight
    assert small.volume == pytest.approx(dense.volume, rel=0.02)


def test_a_failing_quadric_falls_back_to_clustering_unless_told_not_to(dense, monkeypatch):
    def missing(*args, **kwargs):
        raise ImportError("No module named 'fast_simplification'")

    monkeypatch.setattr(trimesh.Trimesh, "simplify_quadric_decimation", missing)
    assert 0 < len(simplify(dense, 3000).faces) <= 3000
    with pytest.raises(ImportError):
        simplify(dense, 3000, fallback=False)
    monkeypatch.setattr(trimesh.Trimesh, "simplify_quadric_decimation", lambda self, face_count: self)  # overshoots
    assert 0 < len(simplify(dense, 3000).faces) <= 3000
    with pytest.raises(SimplifyError, match="quadric decimation left 81920 faces \\(target 3000\\)"):
        simplify(dense, 3000, fallback=False)
