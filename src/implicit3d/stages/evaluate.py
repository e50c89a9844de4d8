"""The evaluate stage: occupancy metrics of one model on its object's held-out test points."""

from __future__ import annotations

import logging

import numpy as np

from .. import __version__
from ..groundtruth import inside_fraction_flag
from ..io import read_json, read_points, write_json

log = logging.getLogger("implicit3d")


def gt_sign(meta: dict) -> str | None:
    """The sign convention a samples file was made with (None for the comparison backends)."""
    truth = meta.get("ground_truth")
    if truth is not None:
        return truth.get("sign")
    return meta.get("sampling", {}).get("sign")


def evaluate(model_in: str, info_in: str, points_in: str, out: str, object_name: str, model_name: str, threads: int = 1) -> dict:
    """Occupancy metrics on the held-out test split, plus size and speed figures."""
    import torch

    from ..evaluation import evaluate_points, inference_throughput
    from ..training import load_model

    torch.set_num_threads(max(1, int(threads)))
    frame, meta = read_points(points_in)
    test = frame[frame["split"] == "test"]
    model, ckpt = load_model(model_in)
    info = read_json(info_in)
    metrics = evaluate_points(model, test)
    throughput = inference_throughput(model, test[["x", "y", "z"]].to_numpy(np.float32))
    record = {
        "object": object_name,
        "model": model_name,
        **metrics,
        "model_bytes": ckpt["model_bytes"],
        "train_seconds": info["train_seconds"],
        "step_ms": info["step_ms"],
        "steps": info["steps"],
        "infer_points_per_s": throughput,
        "gt_method": meta["sampling"].get("method"),
        "gt_sign": gt_sign(meta),
        "gt_flag": inside_fraction_flag(metrics.get("inside_fraction_volume", float("nan")), gt_sign(meta)),
        "device": info["device"],
        "implicit3d_version": __version__,
    }
    write_json(out, record)
    log.info("evaluated %s/%s: F1 near %.4f, volume %.4f", model_name, object_name, metrics.get("f1_near", np.nan), metrics.get("f1_volume", np.nan))
    return record
