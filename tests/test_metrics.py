import numpy as np
import pytest

from implicit3d.metrics import SDF_BAND, occupancy_metrics, sdf_mae


def test_hand_computed_case():
    # inside = negative. truth: I I I O O ; pred: I I O I O  -> tp=2, fp=1, fn=1, tn=1
    truth = np.array([-1, -1, -1, 1, 1.0])
    pred = np.array([-0.5, -0.1, 0.2, -0.3, 0.4])
    m = occupancy_metrics(truth, pred)
    assert m["precision"] == pytest.approx(2 / 3)
    assert m["recall"] == pytest.approx(2 / 3)
    assert m["f1"] == pytest.approx(2 / 3)
    assert m["iou"] == pytest.approx(2 / 4)
    assert m["accuracy"] == pytest.approx(3 / 5)
    assert m["inside_fraction"] == pytest.approx(3 / 5)


def test_f1_is_of_the_inside_class_not_the_mean_of_both():
    truth = np.array([-1.0] + [1.0] * 99)
    pred = np.ones(100)  # predicts all outside: accuracy 0.99, inside F1 0
    m = occupancy_metrics(truth, pred)
    assert m["f1"] == 0.0 and m["accuracy"] == pytest.approx(0.99)


def test_empty_inside_class_in_both_counts_as_perfect():
    m = occupancy_metrics(np.ones(10), np.ones(10))
    assert m["f1"] == 1.0 and m["iou"] == 1.0


def test_zero_sdf_is_outside():
    assert occupancy_metrics(np.array([0.0]), np.array([-1e-9]))["precision"] == 0.0


def test_shape_mismatch():
    with pytest.raises(ValueError, match="shape mismatch"):
        occupancy_metrics(np.ones(3), np.ones(4))


def test_sdf_mae_over_all_and_in_the_band():
    truth = np.array([-0.2, -0.04, 0.0, 0.03, 0.049, 0.05, 0.5])
    pred = truth + np.array([0.1, -0.01, 0.02, 0.0, 0.03, 1.0, -0.3])
    assert sdf_mae(truth, pred) == (pytest.approx(1.46 / 7), 7)
    assert sdf_mae(truth, pred, 0.05) == (pytest.approx(0.06 / 4), 4)  # |true| < 0.05 only
    value, count = sdf_mae(np.array([0.5]), np.array([0.0]), 0.05)
    assert np.isnan(value) and count == 0


def test_evaluate_points_reports_distance_errors_of_a_known_predictor():
    import pandas as pd
    import torch

    from implicit3d.evaluation import evaluate_points

    class Scaled(torch.nn.Module):  # 1.5x the exact SDF of a sphere of radius 0.5: right sign, error |sdf| / 2
        def forward(self, x):
            return 1.5 * (x.norm(dim=1) - 0.5)

    rng = np.random.default_rng(0)
    direction = rng.normal(size=(4000, 3))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    near = direction[:2000] * (0.5 + rng.normal(0, 0.01, (2000, 1)))
    volume = direction[2000:] * rng.random((2000, 1)) ** (1 / 3)
    xyz = np.concatenate([near, volume]).astype(np.float32)
    sdf = np.linalg.norm(xyz, axis=1) - 0.5
    kind = ["near"] * 2000 + ["volume"] * 2000
    test = pd.DataFrame({"x": xyz[:, 0], "y": xyz[:, 1], "z": xyz[:, 2], "sdf": sdf, "kind": kind})
    out = evaluate_points(Scaled(), test)
    assert out["f1_near"] == 1.0 and out["f1_volume"] == 1.0  # signs all right, distances not
    err = np.abs(sdf) / 2
    band = np.abs(sdf[2000:]) < SDF_BAND
    assert out["sdf_mae_near"] == pytest.approx(err[:2000].mean(), rel=1e-4)
    assert out["sdf_mae_volume"] == pytest.approx(err[2000:].mean(), rel=1e-4)
    assert out["count_band"] == band.sum() > 100
    assert out["sdf_mae_band"] == pytest.approx(err[2000:][band].mean(), rel=1e-4)
    assert out["sdf_mae_band"] < SDF_BAND / 2 < out["sdf_mae_volume"]
