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
