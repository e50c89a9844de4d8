"""The samples lattice: stored test points snapped, Z-ordered and kept as exact integer codes."""

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from implicit3d import lattice
from implicit3d.groundtruth.morton import morton_codes
from implicit3d.io import read_points, write_points
from implicit3d.sampling import SamplingSpec, SplitSpec, ground_truth, sample_all, sample_splits
from implicit3d.zorder import deinterleave, interleave

SPEC = SamplingSpec(
    train=SplitSpec(3000, (0.003, 0.01), 2000),
    val=SplitSpec(500, (0.01,), 500),
    test=SplitSpec(4000, (0.003, 0.01), 2000),
)


def test_zorder_round_trips_and_matches_the_ground_truths_codes():
    rng = np.random.default_rng(0)
    cells = rng.integers(0, 1 << 21, (50_000, 3))
    np.testing.assert_array_equal(deinterleave(interleave(cells)), cells)
    unit = rng.random((5_000, 3))
    np.testing.assert_array_equal(interleave((unit * 65536).astype(np.int64)), morton_codes(unit))


def test_snap_and_round_sdf_move_little_and_keep_the_side():
    rng = np.random.default_rng(1)
    points = rng.uniform(-1.2, 1.2, (10_000, 3))
    snapped = lattice.snap(points)
    assert np.abs(snapped - points).max() <= lattice.STEP / 2 + 1e-12
    np.testing.assert_array_equal(lattice.snap(snapped), snapped)
    sdf = np.concatenate([rng.normal(0, 0.3, 10_000), [1e-9, -1e-9, 0.0, 3e-7, -3e-7]])
    rounded = lattice.round_sdf(sdf)
    np.testing.assert_array_equal(np.sign(rounded), np.sign(sdf))
    assert np.abs(rounded[:-5] - sdf[:-5]).max() <= lattice.SDF_STEP / 2 + 1e-12
    assert rounded[-5] == lattice.SDF_STEP and rounded[-4] == -lattice.SDF_STEP


def _table(points, sdf):
    n = len(points)
    return pd.DataFrame({
        "x": points[:, 0], "y": points[:, 1], "z": points[:, 2], "sdf": sdf,
        "split": pd.Categorical(["test"] * n), "kind": pd.Categorical(["near"] * n), "std": np.full(n, 0.01, np.float32),
    })  # fmt: skip


def test_lattice_tables_are_stored_as_codes_exactly_and_in_about_half_the_bytes(tmp_path):
    rng = np.random.default_rng(2)
    raw = rng.normal(size=(50_000, 3))
    raw = 0.8 * raw / np.linalg.norm(raw, axis=1, keepdims=True) + rng.normal(0, 0.01, raw.shape)
    raw = raw[np.argsort(lattice.z_codes(lattice.snap(raw)), kind="stable")].astype(np.float32)
    points = lattice.snap(raw)
    on = _table(points, lattice.round_sdf(np.linalg.norm(points, axis=1) - 0.8))
    off = _table(raw, (np.linalg.norm(raw, axis=1) - 0.8).astype(np.float32))
    write_points(tmp_path / "on.parquet", on, {"a": 1})
    write_points(tmp_path / "off.parquet", off, {"a": 1})
    for name, frame in (("on", on), ("off", off)):
        back, meta = read_points(tmp_path / f"{name}.parquet")
        pd.testing.assert_frame_equal(back, frame, check_exact=True)
        assert meta == {"a": 1}
    stored = pq.read_schema(tmp_path / "on.parquet").names
    assert stored[:2] == list(lattice.CODE_COLUMNS) and "x" not in stored
    assert "x" in pq.read_schema(tmp_path / "off.parquet").names
    assert (tmp_path / "on.parquet").stat().st_size < 0.55 * (tmp_path / "off.parquet").stat().st_size


@pytest.mark.parametrize("change", ["sdf_off_step", "outside", "column_order"])
def test_tables_the_codes_cannot_hold_exactly_keep_float_columns(change):
    points = lattice.snap(np.random.default_rng(3).uniform(-1, 1, (100, 3)))
    frame = _table(points, lattice.round_sdf(np.linspace(-1, 1, 100)))
    if change == "sdf_off_step":
        frame.loc[5, "sdf"] = np.float32(0.1)
    elif change == "outside":
        frame.loc[5, "x"] = np.float32(2.5)
    else:
        frame = frame[["y", "x", "z", "sdf", "split", "kind", "std"]]
    assert lattice.encode(frame) is None


def test_stored_split_is_on_the_lattice_in_z_order_per_part_and_labelled_there(sphere):
    frame, _ = sample_all(sphere, SPEC)
    test = frame[frame["split"] == "test"].reset_index(drop=True)
    points = test[["x", "y", "z"]].to_numpy()
    assert lattice.encode(test) is not None
    # parts (kind, std) keep their order and sizes; each is in Z order
    parts = [(k, s) for k, s in zip(test["kind"], test["std"], strict=True)]
    assert list(dict.fromkeys(parts)) == [("near", np.float32(0.003)), ("near", np.float32(0.01)), ("volume", np.float32(0.0))]
    for _, part in test.groupby(["kind", "std"], observed=True):
        assert np.all(np.diff(lattice.z_codes(part[["x", "y", "z"]].to_numpy()).astype(np.int64)) >= 0)
    # the SDF is the ground truth's at the stored point, rounded
    truth = ground_truth(sphere, SPEC).sdf(points.astype(np.float64))
    np.testing.assert_array_equal(test["sdf"].to_numpy(), lattice.round_sdf(truth))
    # the pool is drawn as before: not snapped, and the same rows drawn alone
    pool, _ = sample_splits(sphere, SPEC, ("train", "val"))
    np.testing.assert_array_equal(pool[["x", "y", "z", "sdf"]].to_numpy(), frame[frame["split"] != "test"][["x", "y", "z", "sdf"]].to_numpy())
    assert lattice.encode(pool.reset_index(drop=True)) is None
