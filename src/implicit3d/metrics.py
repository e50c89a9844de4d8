"""Occupancy classification metrics, with the inside (sdf < 0) as the positive class, and
the mean absolute error of the predicted distances."""

from __future__ import annotations

import numpy as np

SDF_BAND = 0.05  # |true sdf| below this is the band around the surface of `sdf_mae_band`


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


def sdf_mae(sdf_true: np.ndarray, sdf_pred: np.ndarray, band: float | None = None) -> tuple[float, int]:
    """Mean |predicted - true| SDF, over the points with |true| < `band` when given, and how
    many points that was; NaN when there are none."""
    truth, pred = np.asarray(sdf_true, dtype=np.float64), np.asarray(sdf_pred, dtype=np.float64)
    if truth.shape != pred.shape:
        raise ValueError(f"shape mismatch: {truth.shape} vs {pred.shape}")
    keep = np.abs(truth) < band if band is not None else np.ones(truth.shape, dtype=bool)
    n = int(keep.sum())
    return (float(np.mean(np.abs(pred[keep] - truth[keep]))) if n else float("nan")), n


FALSE_INSIDE, FALSE_OUTSIDE = 2, 3  # categories of `sign_error_map`


def sign_error_map(sdf_true: np.ndarray, sdf_pred: np.ndarray) -> np.ndarray:
    """Category per point: 0 right outside, 1 right inside, 2 false inside, 3 false outside
    (inside is sdf < 0, as in the occupancy metrics)."""
    truth, pred = np.asarray(sdf_true) < 0, np.asarray(sdf_pred) < 0
    return np.select([truth & pred, ~truth & pred, truth & ~pred], [1, FALSE_INSIDE, FALSE_OUTSIDE], default=0).astype(np.int8)
