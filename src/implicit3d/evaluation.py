"""Held-out evaluation of a trained model: occupancy metrics and inference speed."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import torch

from .metrics import SDF_BAND, occupancy_metrics, sdf_mae
from .training import float_tensor, predict


def predict_numpy(model: torch.nn.Module, points: np.ndarray, device: torch.device | str = "cpu") -> np.ndarray:
    return predict(model.eval(), float_tensor(points, device)).cpu().numpy()


def evaluate_points(
    model: torch.nn.Module, test: pd.DataFrame, device: torch.device | str = "cpu", band: float = SDF_BAND
) -> dict:
    """Metrics per test kind ('near', 'volume'), flattened as '<metric>_<kind>'.

    Besides the occupancy metrics, the distances: `sdf_mae_<kind>` is the mean |predicted - true|
    SDF over each kind, and `sdf_mae_band` over the volume points with |true| < `band`, a uniform
    sample of the shell around the surface (`count_band` of them). The near points are no such
    sample: they crowd at |true| ~ 0.01, where the near-surface F1 is decided.
    """
    out: dict[str, float] = {}
    for kind, part in test.groupby("kind", observed=True):
        truth = part["sdf"].to_numpy()
        pred = predict_numpy(model, part[["x", "y", "z"]].to_numpy(), device)
        for name, value in occupancy_metrics(truth, pred).items():
            out[f"{name}_{kind}"] = value
        out[f"sdf_mae_{kind}"] = sdf_mae(truth, pred)[0]
        if kind == "volume":
            out["sdf_mae_band"], out["count_band"] = sdf_mae(truth, pred, band)
    return out


def inference_throughput(
    model: torch.nn.Module, points: np.ndarray, device: torch.device | str = "cpu", repeats: int = 3
) -> float:
    """Points per second of batched inference (best of `repeats`, after a warm-up)."""
    x = float_tensor(points, device)
    predict(model, x[:1024])
    best = float("inf")
    for _ in range(repeats):
        if x.device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        predict(model, x)
        if x.device.type == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return len(x) / best
