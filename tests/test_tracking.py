"""The DVC metrics and plot files derived from the summary table."""

import json

import numpy as np
import pandas as pd
import pytest

from implicit3d.io import write_json
from implicit3d.tracking import (
    CURVE_COLUMNS,
    TIMED,
    TRACKED,
    loss_curve,
    model_means,
    write_loss_curves,
    write_tracking,
)


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
        "objects": 2,
        "f1_near": pytest.approx(0.6),
        "f1_volume": pytest.approx(0.5),
        "model_bytes": 100.0,
    }
    assert set(means["siren"]) == {"objects", *TRACKED}
    timings = model_means(summary_table(), TIMED)
    assert timings["mlp"] == {"objects": 2, "train_seconds": 2.0, "infer_points_per_s": 20.0}
    assert timings["siren"]["objects"] == 1 and timings["siren"]["infer_points_per_s"] is None


def test_write_tracking_files(tmp_path):
    summary = tmp_path / "summary.csv"
    summary_table().to_csv(summary, index=False)
    write_tracking(summary, tmp_path / "metrics.json", tmp_path / "plots" / "f1.csv", tmp_path / "timings.json")
    strict = {"parse_constant": lambda c: pytest.fail(f"{c} is not JSON; DVC rejects it")}
    metrics = json.loads((tmp_path / "metrics.json").read_text(), **strict)
    assert metrics["mlp"]["f1_volume"] == pytest.approx(0.5)
    assert not {"train_seconds", "infer_points_per_s"} & set(metrics["mlp"])  # machine-dependent: kept apart
    timings = json.loads((tmp_path / "timings.json").read_text(), **strict)
    assert timings["siren"]["infer_points_per_s"] is None and timings["mlp"]["train_seconds"] == 2.0
    plot = pd.read_csv(tmp_path / "plots" / "f1.csv", dtype={"object": str})
    assert list(plot.columns) == ["label", "model", "object", "f1_near", "f1_volume"]
    assert list(plot.label) == ["2 / mlp", "10 / mlp", "2 / siren"]


def history(*entries):
    return [{"step": step, "loss": loss, "val_loss": val} for step, loss, val in entries]


def test_loss_curve_is_median_min_max_over_objects_per_step():
    curve = loss_curve([
        history((50, 0.3, 0.4), (100, 0.1, 0.2), (150, 0.05, 0.1)),
        history((50, 0.5, 0.6), (100, 0.2, 0.3)),  # stopped early: absent from step 150
        history((50, 0.1, 0.2), (100, 0.3, 0.1), (150, 0.07, 0.3)),
    ])  # fmt: skip
    assert list(curve.columns) == CURVE_COLUMNS
    assert list(curve.step) == [50, 100, 150] and list(curve.objects) == [3, 3, 2]
    assert list(curve.train_loss_median) == pytest.approx([0.3, 0.2, 0.06])
    assert list(curve.train_loss_min) == pytest.approx([0.1, 0.1, 0.05])
    assert list(curve.train_loss_max) == pytest.approx([0.5, 0.3, 0.07])
    assert list(curve.val_loss_median) == pytest.approx([0.4, 0.2, 0.2])
    assert list(curve.val_loss_min) == pytest.approx([0.2, 0.1, 0.1])
    assert list(curve.val_loss_max) == pytest.approx([0.6, 0.3, 0.3])
    assert list(loss_curve([]).columns) == CURVE_COLUMNS


def test_write_loss_curves_one_csv_per_model(tmp_path):
    infos = {}
    for model, obj, entries in [
        ("hashgrid", "NA", [(50, 0.2, 0.3), (100, 0.1, 0.2)]),
        ("hashgrid", "chair/2", [(50, 0.4, 0.5), (100, 0.3, 0.2)]),  # a nested id keeps its folders
        ("siren", "2", [(10, 0.9, 0.8)]),
    ]:
        path = tmp_path / "models" / model / "0123456789" / f"{obj}.json"
        write_json(path, {"arch": model, "model_bytes": 10, "history": history(*entries)})
        infos.setdefault(model, []).append(path)
    write_json(tmp_path / "plots" / "loss" / "mlp.csv", {})  # a model no longer trained: its curve goes
    write_loss_curves(infos, tmp_path / "plots" / "loss")
    assert sorted(p.name for p in (tmp_path / "plots" / "loss").iterdir()) == ["hashgrid.csv", "siren.csv"]
    hashgrid = pd.read_csv(tmp_path / "plots" / "loss" / "hashgrid.csv")
    assert list(hashgrid.columns) == CURVE_COLUMNS
    assert hashgrid[["step", "objects", "train_loss_median", "val_loss_median"]].to_numpy() == pytest.approx(
        np.array([[50, 2, 0.3, 0.4], [100, 2, 0.2, 0.2]])
    )
    siren = pd.read_csv(tmp_path / "plots" / "loss" / "siren.csv")
    assert siren[["step", "objects", "val_loss_max"]].to_numpy() == pytest.approx(np.array([[10, 1, 0.8]]))
