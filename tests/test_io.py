import numpy as np
import pandas as pd
import pytest

from implicit3d.io import atomic_path, read_json, read_points, write_json, write_points


def test_parquet_round_trip_keeps_values_types_and_metadata(tmp_path):
    frame = pd.DataFrame(
        {
            "x": np.float32([0.1, 0.2]), "y": np.float32([0, 1]), "z": np.float32([2, 3]),
            "sdf": np.float32([-0.5, 0.25]), "split": pd.Categorical(["train", "test"]),
            "kind": pd.Categorical(["near", "volume"]), "std": np.float32([0.01, 0]),
        }
    )  # fmt: skip
    meta = {"sampling": {"seed": 3, "near_std": [0.01]}, "mesh_digest": "abc"}
    write_points(tmp_path / "p.parquet", frame, meta)
    back, back_meta = read_points(tmp_path / "p.parquet")
    pd.testing.assert_frame_equal(back, frame)
    assert back_meta == meta


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.json"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_json_round_trip_with_numpy(tmp_path):
    write_json(tmp_path / "a.json", {"a": np.float32(1.5), "b": np.arange(3)})
    assert read_json(tmp_path / "a.json") == {"a": 1.5, "b": [0, 1, 2]}


def test_point_values_are_stored_losslessly_and_compactly(tmp_path):
    """x, y, z, sdf: byte-stream split, no dictionary (it only bloats random floats); labels: dictionary."""
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    n = 50_000
    values = {c: rng.normal(0, 0.3, n).astype(np.float32) for c in ("x", "y", "z", "sdf")}
    frame = pd.DataFrame({**values, "split": pd.Categorical(["test"] * n), "kind": pd.Categorical(rng.choice(["near", "volume"], n)),
                          "std": rng.choice(np.float32([0.0, 0.01]), n)})  # fmt: skip
    write_points(tmp_path / "p.parquet", frame, {})
    back, _ = read_points(tmp_path / "p.parquet")
    for c in values:
        assert back[c].to_numpy().tobytes() == values[c].tobytes()
    columns = pq.ParquetFile(tmp_path / "p.parquet").metadata.row_group(0)
    encodings = {columns.column(i).path_in_schema: columns.column(i).encodings for i in range(columns.num_columns)}
    assert all("BYTE_STREAM_SPLIT" in encodings[c] and "RLE_DICTIONARY" not in encodings[c] for c in values)
    assert "RLE_DICTIONARY" in encodings["kind"] and "RLE_DICTIONARY" in encodings["std"]
    assert (tmp_path / "p.parquet").stat().st_size < 16 * n  # at most the raw float32 values
