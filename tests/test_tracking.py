"""The DVC metrics and plot files derived from the summary table."""

import json

import pandas as pd
import pytest

from implicit3d.tracking import TRACKED, model_means, write_tracking


def summary_table():
    rows = [
        {"object": "2", "model": "mlp", "f1_near": 0.5, "f1_volume": 0.75, "model_bytes": 100, "train_seconds": 1.0, "infer_points_per_s": 10.0},
        {"object": "10", "model": "mlp", "f1_near": 0.7, "f1_volume": 0.25, "model_bytes": 100, "train_seconds": 3.0, "infer_points_per_s": 30.0},
        {"object": "2", "model": "siren", "f1_near": 1.0, "f1_volume": 1.0, "model_bytes": 40, "train_seconds": 2.0, "infer_points_per_s": float("nan")},
        # the summary's own mean rows must not be averaged in again
        {"object": "mean", "model": "mlp", "f1_near": 99.0, "f1_volume": 99.0, "model_bytes": 99, "train_seconds": 99.0, "infer_points_per_s": 99.0},
    ]  # fmt: skip
    return pd.DataFrame(rows)


def test_means_per_model_ignore_mean_rows_and_turn_nan_into_null():
    means = model_means(summary_table())
    assert list(means) == ["mlp", "siren"]
    assert means["mlp"] == {
        "objects": 2, "f1_near": pytest.approx(0.6), "f1_volume": pytest.approx(0.5), "model_bytes": 100.0,
        "train_seconds": 2.0, "infer_points_per_s": 20.0,
    }  # fmt: skip
    assert means["siren"]["objects"] == 1 and means["siren"]["infer_points_per_s"] is None
    assert set(means["siren"]) == {"objects", *TRACKED}


def test_write_tracking_files(tmp_path):
    summary = tmp_path / "summary.csv"
    summary_table().to_csv(summary, index=False)
    write_tracking(summary, tmp_path / "metrics.json", tmp_path / "plots" / "f1.csv")
    text = (tmp_path / "metrics.json").read_text()
    metrics = json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} is not JSON; DVC rejects it"))
    assert metrics["siren"]["infer_points_per_s"] is None
    assert metrics["mlp"]["f1_volume"] == pytest.approx(0.5)
    plot = pd.read_csv(tmp_path / "plots" / "f1.csv", dtype={"object": str})
    assert list(plot.columns) == ["label", "model", "object", "f1_near", "f1_volume"]
    assert list(plot.label) == ["2 / mlp", "10 / mlp", "2 / siren"]
