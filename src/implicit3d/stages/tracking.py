"""The tracking stage: the metrics and plot files DVC reads (`dvc metrics`, `dvc plots`)."""

from __future__ import annotations

import os

from ..tracking import write_loss_curves, write_tracking


def tracking(summary_csv: str, metrics_out: str, timings_out: str, f1_out: str, infos: dict[str, list[str]], loss_out: list[str]) -> dict:
    """results/metrics.json, timings.json and plots/f1.csv from the summary; plots/loss/<model>.csv from each model's
    training records (`infos`: model -> its records); returns the metrics."""
    metrics = write_tracking(summary_csv, metrics_out, f1_out, timings_out)
    write_loss_curves(infos, os.path.dirname(loss_out[0]))
    return metrics
