"""Files for experiment tracking with DVC: mean metrics per model (`dvc metrics`) and the
per-object F1 table (`dvc plots`), both derived from the summary table."""

from __future__ import annotations

import math
import os

import pandas as pd

from .io import atomic_path, write_json

# Summary columns averaged into the metrics file, one block per model.
TRACKED = ["f1_near", "f1_volume", "model_bytes", "train_seconds", "infer_points_per_s"]
PLOT_COLUMNS = ["label", "model", "object", "f1_near", "f1_volume"]


def model_means(table: pd.DataFrame) -> dict[str, dict[str, float | int | None]]:
    """{model: {objects, <column>: mean over objects}} from a summary table (its 'mean' rows are ignored)."""
    rows = table[table["object"].astype(str) != "mean"]
    out: dict[str, dict[str, float | int | None]] = {}
    for model, part in rows.groupby("model", sort=True):
        block: dict[str, float | int | None] = {"objects": int(len(part))}
        for col in TRACKED:
            value = float(pd.to_numeric(part[col], errors="coerce").mean())
            block[col] = None if math.isnan(value) else value  # JSON has no NaN; DVC would reject it
        out[str(model)] = block
    return out


def write_tracking(summary_csv: str | os.PathLike, metrics_out: str | os.PathLike, f1_plot_out: str | os.PathLike) -> dict:
    table = pd.read_csv(summary_csv, dtype={"object": str})
    metrics = model_means(table)
    write_json(metrics_out, metrics)
    rows = table[table["object"] != "mean"].copy()
    rows["label"] = rows["object"] + " / " + rows["model"]  # one bar per object and model
    with atomic_path(f1_plot_out) as tmp:
        rows[PLOT_COLUMNS].to_csv(tmp, index=False)
    return metrics
