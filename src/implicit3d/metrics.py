"""Occupancy classification metrics, with the inside (sdf < 0) as the positive class."""

from __future__ import annotations

import numpy as np


def occupancy_metrics(sdf_true: np.ndarray, sdf_pred: np.ndarray) -> dict[str, float]:
    """Precision, recall, F1 and IoU of the inside class, plus accuracy.

    When neither truth nor prediction has an inside point, there is nothing to
    get wrong: precision, recall, F1 and IoU are 1 (sklearn's zero_division=1).
    """
    truth = np.asarray(sdf_true) < 0
    pred = np.asarray(sdf_pred) < 0
    if truth.shape != pred.shape:
        raise ValueError(f"shape mismatch: {truth.shape} vs {pred.shape}")
    tp = int(np.sum(truth & pred))
    fp = int(np.sum(~truth & pred))
    fn = int(np.sum(truth & ~pred))
    n = truth.size
    return {
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        "iou": _ratio(tp, tp + fp + fn),
        "accuracy": float(np.mean(truth == pred)) if n else 1.0,
        "inside_fraction": float(truth.mean()) if n else 0.0,
        "count": n,
    }


def _ratio(num: int, den: int) -> float:
    return 1.0 if den == 0 else num / den
