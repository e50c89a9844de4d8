import numpy as np
import pytest

from implicit3d.metrics import occupancy_metrics


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
