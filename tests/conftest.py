from pathlib import Path

import pytest
import trimesh

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO.parent / "shared" / "data" / "test_task_meshes"


@pytest.fixture
def sphere():
    return trimesh.creation.icosphere(subdivisions=3, radius=0.8)


@pytest.fixture
def box_file(tmp_path):
    mesh = trimesh.creation.box(extents=(2.0, 1.0, 0.5))
    mesh.apply_translation((5.0, -3.0, 1.0))
    path = tmp_path / "box.obj"
    mesh.export(path)
    return path


@pytest.fixture
def reference_meshes():
    if not REFERENCE.is_dir():
        pytest.skip(f"reference meshes not found at {REFERENCE}")
    return REFERENCE


@pytest.fixture(autouse=True)
def _single_thread():
    import torch

    torch.set_num_threads(1)
    yield
