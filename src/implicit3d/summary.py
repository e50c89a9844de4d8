"""Aggregation of per-object evaluation records into the summary table."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from .io import atomic_path, read_json

KEY_COLUMNS = ["object", "model", "f1_near", "f1_volume", "model_bytes", "train_seconds", "infer_points_per_s"]
EXTRA_COLUMNS = [
    "chamfer", "normal_consistency", "recon_note",
    "precision_near", "recall_near", "iou_near", "precision_volume", "recall_volume", "iou_volume",
    "sdf_mae_band", "sdf_mae_near", "sdf_mae_volume",
    "step_ms", "steps", "inside_fraction_volume", "gt_method", "gt_sign", "gt_flag", "device",
]  # fmt: skip


def read_summary(path: str | os.PathLike) -> pd.DataFrame:
    """The summary CSV as written. Only empty cells are missing: objects named `NA`, `None` or
    `nan` keep their names, which pandas' default NA parsing would blank."""
    return pd.read_csv(path, keep_default_na=False, na_values=[""], dtype={"object": str, "model": str})


def load_records(paths: list[str | os.PathLike], reconstruction_paths: list[str | os.PathLike] = ()) -> pd.DataFrame:
    """Evaluation records, joined on (object, model) with reconstruction records when given."""
    rows = [read_json(p) for p in paths]
    frame = pd.DataFrame(rows)
    if reconstruction_paths:
        recon = pd.DataFrame([read_json(p) for p in reconstruction_paths])
        keep = ["object", "model"] + [c for c in EXTRA_COLUMNS if c in recon and c not in frame]
        frame = frame.merge(recon[keep], on=["object", "model"], how="left")
    for col in KEY_COLUMNS + EXTRA_COLUMNS:
        if col not in frame:
            frame[col] = pd.NA
    return frame[KEY_COLUMNS + EXTRA_COLUMNS].sort_values(["model", "object"], key=_natural).reset_index(drop=True)


def with_means(frame: pd.DataFrame) -> pd.DataFrame:
    """Append one 'mean' row per model (numeric columns averaged)."""
    means = []
    for model, part in frame.groupby("model", sort=False):
        row = part.mean(numeric_only=True).to_dict()
        row.update(object="mean", model=model)
        means.append(row)
    return pd.concat([frame, pd.DataFrame(means)], ignore_index=True)[frame.columns]


def write_summary(frame: pd.DataFrame, out_csv: str | os.PathLike, out_parquet: str | os.PathLike, out_md: str | os.PathLike) -> None:
    table = with_means(frame)
    with atomic_path(out_csv) as tmp:
        table.to_csv(tmp, index=False)
    with atomic_path(out_parquet) as tmp:
        table.astype({c: "string" for c in ("gt_flag", "gt_method", "gt_sign", "device", "recon_note")}).to_parquet(tmp, index=False)
    with atomic_path(out_md) as tmp:
        Path(tmp).write_text(to_markdown(table) + "\n")


def to_markdown(table: pd.DataFrame) -> str:
    cols = KEY_COLUMNS + ["sdf_mae_band", "chamfer", "normal_consistency", "gt_flag"]
    fmt = {
        "f1_near": "{:.4f}", "f1_volume": "{:.4f}", "model_bytes": "{:,.0f}",
        "train_seconds": "{:.1f}", "infer_points_per_s": "{:,.0f}",
        "sdf_mae_band": "{:.4f}", "chamfer": "{:.4f}", "normal_consistency": "{:.4f}",
    }  # fmt: skip
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in table.iterrows():
        cells = []
        for c in cols:
            v = row[c]
            cells.append("" if pd.isna(v) else fmt[c].format(v) if c in fmt else str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _natural(col: pd.Series) -> pd.Series:
    # Sort '2' before '10' for numbered objects.
    if col.name == "object":
        return col.map(lambda s: (0, int(s), "") if str(s).isdigit() else (1, 0, str(s)))
    return col


def headline(table: pd.DataFrame, worst: int = 5) -> str:
    """Markdown: per-model means and medians side by side, then each model's worst objects by F1 near."""
    rows = table[table["object"] != "mean"]
    lines = [
        "| model | objects | mean f1_near | mean f1_volume | median train s | max train s | model bytes | infer points/s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for model, part in rows.groupby("model", sort=False):
        lines.append(
            f"| {model} | {len(part)} | {part.f1_near.mean():.4f} | {part.f1_volume.mean():.4f} | "
            f"{part.train_seconds.median():.1f} | {part.train_seconds.max():.1f} | "
            f"{part.model_bytes.median():,.0f} | {part.infer_points_per_s.median():,.0f} |"
        )
    for model, part in rows.groupby("model", sort=False):
        lines += ["", f"Worst {worst} objects of {model} by f1_near:", "", "| object | f1_near | f1_volume | gt_flag |", "|---|---|---|---|"]
        for _, r in part.nsmallest(worst, "f1_near").iterrows():
            flag = "" if pd.isna(r.get("gt_flag")) else r["gt_flag"]
            lines.append(f"| {r['object']} | {r.f1_near:.4f} | {r.f1_volume:.4f} | {flag} |")
    return "\n".join(lines)
