"""Held-out evaluation of a trained model: occupancy metrics and inference speed."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import torch

from .metrics import occupancy_metrics
from .training import float_tensor, predict


def predict_numpy(model: torch.nn.Module, points: np.ndarray, device: torch.device | str = "cpu") -> np.ndarray:
    return predict(model.eval(), float_tensor(points, device)).cpu().numpy()


def evaluate_points(model: torch.nn.Module, test: pd.DataFrame, device: torch.device | str = "cpu") -> dict:
    """Metrics per test kind ('near', 'volume'), flattened as '<metric>_<kind>'."""
    out: dict[str, float] = {}
    for kind, part in test.groupby("kind", observed=True):
        pred = predict_numpy(model, part[["x", "y", "z"]].to_numpy(), device)
        for name, value in occupancy_metrics(part["sdf"].to_numpy(), pred).items():
            out[f"{name}_{kind}"] = value
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
