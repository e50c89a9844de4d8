"""The training pool is not stored: the samples file holds the test points and records how they were
drawn, and each train job draws the train and val splits from the normalized mesh and the seed.
Regenerated, the pool is bit-identical, in fresh interpreters too, and equal to the rows the
pipeline used to store (the train and val splits of `sample_all`)."""

import hashlib
import inspect
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from implicit3d.errors import Implicit3DError
from implicit3d.io import read_points
from implicit3d.mesh import mesh_digest
from implicit3d.meshfile import read_mesh
from implicit3d.sampling import POOL_SPLITS, SPLITS, SamplingSpec, sample_all, sample_splits, training_pool
from implicit3d.stages import normalize, sample

MESH = Path(__file__).resolve().parents[1] / "data" / "sample_meshes" / "joint.ply"
SAMPLING = {
    "method": "exact", "sign": "filled", "volume": "sphere", "seed": 5,
    "train": {"near_count": 4000, "near_std": [0.003, 0.012], "volume_count": 2000},
    "val": {"near_count": 300, "near_std": 0.01, "volume_count": 300},
    "test": {"near_count": 1000, "near_std": 0.01, "volume_count": 1000},
}  # fmt: skip
COLUMNS = ("x", "y", "z", "sdf", "std")


def digest(frame: pd.DataFrame) -> str:
    """sha256 over the value columns' bytes and the split and kind labels, row by row."""
    h = hashlib.sha256()
    for col in COLUMNS:
        h.update(frame[col].to_numpy().tobytes())
    for col in ("split", "kind"):
        h.update("\n".join(frame[col].astype(str)).encode())
    return h.hexdigest()


# Draw the pool in a fresh interpreter and print its digest.
DRAW = "\n".join([
    "import hashlib, sys",
    "import pandas as pd",
    "from implicit3d.io import read_points",
    "from implicit3d.meshfile import read_mesh",
    "from implicit3d.sampling import training_pool",
    f"COLUMNS = {COLUMNS!r}",
    inspect.getsource(digest),
    "pool, _ = training_pool(read_mesh(sys.argv[1]), read_points(sys.argv[2])[1])",
    "print(digest(pool))",
])  # fmt: skip


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    d = tmp_path_factory.mktemp("pool")
    normalize(str(MESH), str(d / "n.ply"), str(d / "n.json"))
    sample(str(d / "n.ply"), str(d / "s.parquet"), SAMPLING)
    return d


def rows(frame: pd.DataFrame, splits) -> pd.DataFrame:
    return frame[frame["split"].isin(splits)].reset_index(drop=True)


def test_the_samples_file_holds_the_test_points_and_how_they_were_drawn(made):
    frame, meta = read_points(made / "s.parquet")
    assert set(frame["split"]) == {"test"}
    assert len(frame) == SAMPLING["test"]["near_count"] + SAMPLING["test"]["volume_count"]
    assert meta["sampling"] == SAMPLING and meta["mesh_digest"] == mesh_digest(read_mesh(made / "n.ply"))


def test_stored_test_points_and_the_pool_are_sample_alls_rows(made):
    mesh = read_mesh(made / "n.ply")
    everything, _ = sample_all(mesh, SamplingSpec.from_config(SAMPLING))
    stored, meta = read_points(made / "s.parquet")
    pool, stats = training_pool(mesh, meta)
    assert digest(stored) == digest(rows(everything, ["test"]))
    assert digest(pool) == digest(rows(everything, POOL_SPLITS))
    assert pool.groupby(["split", "kind"], observed=True).size().to_dict() == {
        ("train", "near"): 4000, ("train", "volume"): 2000, ("val", "near"): 300, ("val", "volume"): 300,
    }  # fmt: skip
    assert stats["dropped"] == 0


def test_the_regenerated_pool_is_bit_identical_in_fresh_interpreters(made):
    expected = digest(training_pool(read_mesh(made / "n.ply"), read_points(made / "s.parquet")[1])[0])
    for hash_seed in ("1", "2"):  # nothing may depend on set or dict-of-str ordering
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run([sys.executable, "-c", DRAW, str(made / "n.ply"), str(made / "s.parquet")],
                              env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.strip() == expected


def test_the_pool_needs_the_mesh_the_samples_were_drawn_from(made, sphere):
    _, meta = read_points(made / "s.parquet")
    with pytest.raises(Implicit3DError, match="other.ply: not the mesh the samples were drawn from"):
        training_pool(sphere, meta, source="other.ply")


def test_each_split_is_drawn_the_same_alone_or_together(sphere):
    spec = SamplingSpec.from_config(SAMPLING)
    together, _ = sample_splits(sphere, spec, SPLITS)
    for split in SPLITS:
        alone, _ = sample_splits(sphere, spec, (split,))
        assert digest(alone) == digest(rows(together, [split]))
    with pytest.raises(ValueError, match="unknown splits"):
        sample_splits(sphere, spec, ("train", "holdout"))
