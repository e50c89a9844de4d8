"""Files for experiment tracking with DVC: mean metrics per model and mean timings per model (`dvc metrics`), the
per-object F1 table (`dvc plots`), both derived from the summary table, and each model's
training curve over the collection (`dvc plots`), from the models' training records."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pandas as pd

from .io import atomic_path, read_json, write_json
from .summary import CATEGORY_METRICS, category_means, has_categories, read_summary

# Summary columns averaged into the metrics file, one block per model: only what the same data and
# config give bit for bit on any CPU, so that reproducing a commit leaves the file as committed.
TRACKED = ["f1_near", "f1_volume", "model_bytes"]
# The machine's speed: averaged into a file of their own (results/timings.json).
TIMED = ["train_seconds", "infer_points_per_s"]
PLOT_COLUMNS = ["label", "model", "object", "f1_near", "f1_volume"]
# The training records' history entries ({step, loss, val_loss} at every validation check), as curve columns.
CURVE_FIELDS = {"loss": "train_loss", "val_loss": "val_loss"}
STATS = ("median", "min", "max")  # over objects, at each step
CURVE_COLUMNS = ["step", "objects"] + [f"{name}_{stat}" for name in CURVE_FIELDS.values() for stat in STATS]


def model_means(table: pd.DataFrame, columns: list[str] = TRACKED) -> dict[str, dict]:
    """{model: {objects, <column>: mean over objects}} from a summary table (its 'mean' rows are ignored).
    A collection with categories adds, per model, `categories` ({category: {objects, name, means}}) and
    `mean_of_categories` (the categories' means averaged, as ShapeNet papers report)."""
    rows = table[table["object"].astype(str) != "mean"]
    out: dict[str, dict] = {}
    for model, part in rows.groupby("model", sort=True):
        block: dict = {"objects": int(len(part))}
        for col in columns:
            block[col] = _number(pd.to_numeric(part[col], errors="coerce").mean())
        out[str(model)] = block
    if has_categories(rows):
        for _, r in category_means(rows).iterrows():
            means = {col: _number(r[col]) for col in CATEGORY_METRICS if col in columns}
            if r.category == "(mean of categories)":
                out[str(r.model)]["mean_of_categories"] = means
            elif r.category != "(all objects)":
                named = {"name": r.category_name} if r.category_name else {}
                out[str(r.model)].setdefault("categories", {})[r.category or "(none)"] = {"objects": int(r.objects), **named, **means}
    return out


def _number(value) -> float | None:
    value = float(value)
    return None if math.isnan(value) else value  # JSON has no NaN; DVC would reject it


def write_tracking(summary_csv: str | os.PathLike, metrics_out: str | os.PathLike, f1_plot_out: str | os.PathLike, timings_out: str | os.PathLike) -> dict:
    """The metrics file (quality and size), the timings file and the F1 plot table; returns the metrics."""
    table = read_summary(summary_csv)
    metrics = model_means(table)
    write_json(metrics_out, metrics)
    write_json(timings_out, model_means(table, TIMED))
    rows = table[table["object"] != "mean"].copy()
    rows["label"] = rows["object"] + " / " + rows["model"]  # one bar per object and model
    with atomic_path(f1_plot_out) as tmp:
        rows[PLOT_COLUMNS].to_csv(tmp, index=False)
    return metrics


def loss_curve(histories: list[list[dict]]) -> pd.DataFrame:
    """One model's training curve over a collection: at every validation step, the median, min and
    max over objects of the training loss (that step's batch) and of the validation loss.

    `histories` holds one training record's `history` per object. An object that stopped early is
    missing from later steps: `objects` counts those present at each step.
    """
    rows = [
        {"step": int(entry["step"]), **{name: entry.get(key) for key, name in CURVE_FIELDS.items()}}
        for history in histories
        for entry in history
    ]
    if not rows:
        return pd.DataFrame(columns=CURVE_COLUMNS)
    steps = pd.DataFrame(rows).astype({name: float for name in CURVE_FIELDS.values()}).groupby("step", sort=True)
    curve = pd.DataFrame({"objects": steps.size()})
    for name in CURVE_FIELDS.values():
        for stat in STATS:
            curve[f"{name}_{stat}"] = steps[name].agg(stat)
    return curve.reset_index()[CURVE_COLUMNS]


def write_loss_curves(info_paths: dict[str, list[str | os.PathLike]], out_dir: str | os.PathLike) -> dict[str, pd.DataFrame]:
    """`<out_dir>/<model>.csv`: the loss curve of each model, from its training records
    (`info_paths`: model -> its records, `results/models/<model>/<tag>/<object>.json`).

    Other models' curves in `out_dir`, from earlier runs, are removed: DVC plots every file there.
    """
    histories = {model: [read_json(path).get("history", []) for path in paths] for model, paths in info_paths.items()}
    curves = {model: loss_curve(histories[model]) for model in sorted(histories)}
    out_dir = Path(out_dir)
    for model, curve in curves.items():
        with atomic_path(out_dir / f"{model}.csv") as tmp:
            curve.to_csv(tmp, index=False)
    for stale in out_dir.glob("*.csv"):
        if stale.stem not in curves:
            stale.unlink()
    return curves
