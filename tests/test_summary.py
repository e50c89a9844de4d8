import pandas as pd
import pytest

from implicit3d.io import write_json
from implicit3d.summary import KEY_COLUMNS, load_records, write_summary


def test_summary_has_rows_and_means(tmp_path):
    paths = []
    for i, (obj, f1) in enumerate([("10", 0.9), ("2", 0.8)]):
        rec = {"object": obj, "model": "hashgrid", "f1_near": f1, "f1_volume": 1.0, "model_bytes": 100,
               "train_seconds": 10.0 + i, "infer_points_per_s": 1e6}
        write_json(tmp_path / f"{obj}.json", rec)
        paths.append(tmp_path / f"{obj}.json")
    frame = load_records(paths)
    assert frame["object"].tolist() == ["2", "10"]  # natural order
    write_summary(frame, tmp_path / "s.csv", tmp_path / "s.parquet", tmp_path / "s.md")
    table = pd.read_csv(tmp_path / "s.csv", dtype={"object": str})
    assert list(table.columns[: len(KEY_COLUMNS)]) == KEY_COLUMNS
    mean = table[table.object == "mean"].iloc[0]
    assert mean.f1_near == pytest.approx(0.85) and mean.train_seconds == pytest.approx(10.5)
    assert pd.read_parquet(tmp_path / "s.parquet").shape == table.shape
    assert "| mean | hashgrid | 0.8500 |" in (tmp_path / "s.md").read_text()


def test_distance_errors_reach_the_table(tmp_path):
    rec = {"object": "a", "model": "grid", "f1_near": 0.9, "f1_volume": 1.0, "model_bytes": 100, "train_seconds": 1.0,
           "infer_points_per_s": 1e6, "sdf_mae_band": 0.0123, "sdf_mae_near": 0.004, "sdf_mae_volume": 0.25, "count_band": 50}  # fmt: skip
    write_json(tmp_path / "a.json", rec)
    frame = load_records([tmp_path / "a.json"])
    assert frame.loc[0, ["sdf_mae_band", "sdf_mae_near", "sdf_mae_volume"]].tolist() == [0.0123, 0.004, 0.25]
    assert "count_band" not in frame  # in the evaluation record only
    write_summary(frame, tmp_path / "s.csv", tmp_path / "s.parquet", tmp_path / "s.md")
    header, _, first = (tmp_path / "s.md").read_text().splitlines()[:3]
    assert "| sdf_mae_band |" in header and "| 0.0123 |" in first
