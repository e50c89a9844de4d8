"""Aggregation of per-object evaluation records into the summary table."""

from __future__ import annotations

import html
import os
from pathlib import Path

import numpy as np
import pandas as pd

from .io import atomic_path, read_json

KEY_COLUMNS = ["object", "model", "f1_near", "f1_volume", "model_bytes", "train_seconds", "infer_points_per_s"]
# Where each object comes from (results/collection.csv): empty where the dataset has no such label.
COLLECTION_COLUMNS = ["category", "category_name", "split", "path"]
TEXT_COLUMNS = ["gt_flag", "gt_method", "gt_sign", "device", "recon_note", "implicit3d_version", *COLLECTION_COLUMNS]
# The means reported per category (and over the categories' means), as ShapeNet papers report.
CATEGORY_METRICS = ["f1_near", "f1_volume", "model_bytes", "train_seconds"]
EXTRA_COLUMNS = [
    *COLLECTION_COLUMNS, "chamfer", "normal_consistency", "recon_note",
    "precision_near", "recall_near", "iou_near", "precision_volume", "recall_volume", "iou_volume",
    "sdf_mae_band", "sdf_mae_near", "sdf_mae_volume",
    "step_ms", "steps", "inside_fraction_volume", "gt_method", "gt_sign", "gt_flag", "device", "implicit3d_version",
]  # fmt: skip


def read_summary(path: str | os.PathLike) -> pd.DataFrame:
    """The summary CSV as written. Only empty cells are missing: objects named `NA`, `None` or
    `nan` keep their names, which pandas' default NA parsing would blank."""
    text = {c: str for c in ("object", "model", "implicit3d_version", *COLLECTION_COLUMNS)}
    return pd.read_csv(path, keep_default_na=False, na_values=[""], dtype=text)


def read_collection(path: str | os.PathLike) -> list[dict]:
    """The rows of results/collection.csv (object, category, category_name, split, path), as text."""
    return pd.read_csv(path, keep_default_na=False, dtype=str).to_dict("records")


def load_records(
    paths: list[str | os.PathLike], reconstruction_paths: list[str | os.PathLike] = (), collection: list[dict] | None = None
) -> pd.DataFrame:
    """Evaluation records, joined on (object, model) with reconstruction records when given, and on
    object with the collection's rows (category, split, path) when given."""
    rows = [read_json(p) for p in paths]
    frame = pd.DataFrame(rows)
    if reconstruction_paths:
        recon = pd.DataFrame([read_json(p) for p in reconstruction_paths])
        keep = ["object", "model"] + [c for c in EXTRA_COLUMNS if c in recon and c not in frame]
        frame = frame.merge(recon[keep], on=["object", "model"], how="left")
    if collection and len(frame):
        labels = pd.DataFrame(collection, dtype=str)[["object", *COLLECTION_COLUMNS]]
        frame = frame.drop(columns=[c for c in COLLECTION_COLUMNS if c in frame]).merge(labels, on="object", how="left")
    for col in KEY_COLUMNS + EXTRA_COLUMNS:
        if col not in frame:
            frame[col] = pd.NA
    frame[COLLECTION_COLUMNS] = frame[COLLECTION_COLUMNS].fillna("").astype(str)
    order = ["model", "category", "object"]
    return frame[KEY_COLUMNS + EXTRA_COLUMNS].sort_values(order, key=_natural).reset_index(drop=True)


def worst_objects(table: pd.DataFrame, count: int) -> pd.DataFrame:
    """Each model's `count` objects of lowest F1 near the surface, in each category (model, object)."""
    rows = table[table["object"].astype(str) != "mean"]
    groups = ["model", "category"] if "category" in rows else ["model"]
    chosen = rows.sort_values(["f1_near", "object"]).groupby(groups, sort=True, dropna=False).head(count)
    return chosen.sort_values(["model", "object"])[["model", "object"]].reset_index(drop=True)


def read_worst(path: str | os.PathLike) -> list[tuple[str, str]]:
    """The (model, object) pairs a worst-objects file lists."""
    frame = pd.read_csv(path, keep_default_na=False, dtype=str)
    return list(zip(frame["model"], frame["object"], strict=True))


def has_categories(table: pd.DataFrame) -> bool:
    return "category" in table and bool((table["category"].fillna("").astype(str) != "").any())


def category_means(table: pd.DataFrame) -> pd.DataFrame:
    """Per model: one row per category (its objects and mean metrics), then the mean of the category
    means and the mean over all objects. Rows are labelled by `category` ('(mean of categories)',
    '(all objects)')."""
    rows = table[table["object"].astype(str) != "mean"]
    out = []
    for model, part in rows.groupby("model", sort=False):
        per = []
        for category, group in part.groupby(part["category"].fillna("").astype(str), sort=True):
            name = next((n for n in group["category_name"].fillna("").astype(str) if n), "")
            per.append({"model": model, "category": category, "category_name": name, "objects": len(group),
                        **{m: pd.to_numeric(group[m], errors="coerce").mean() for m in CATEGORY_METRICS}})  # fmt: skip
        out += per
        out.append({"model": model, "category": "(mean of categories)", "category_name": "", "objects": len(part),
                    **{m: pd.DataFrame(per)[m].mean() for m in CATEGORY_METRICS}})  # fmt: skip
        out.append({"model": model, "category": "(all objects)", "category_name": "", "objects": len(part),
                    **{m: pd.to_numeric(part[m], errors="coerce").mean() for m in CATEGORY_METRICS}})  # fmt: skip
    return pd.DataFrame(out, columns=["model", "category", "category_name", "objects", *CATEGORY_METRICS])


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
        table.astype({c: "string" for c in TEXT_COLUMNS if c in table}).to_parquet(tmp, index=False)
    text = to_markdown(table)
    if has_categories(table):
        text += "\n\n## Per category\n\n" + category_markdown(category_means(table)) + "\n\n" + worst_markdown(table)
    with atomic_path(out_md) as tmp:
        Path(tmp).write_text(text + "\n")


def category_markdown(means: pd.DataFrame) -> str:
    """The per-category means as a Markdown table."""
    lines = ["| model | category | name | objects | mean f1_near | mean f1_volume | mean model bytes | mean train s |",
             "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for _, r in means.iterrows():
        lines.append(f"| {r.model} | {r.category} | {r.category_name} | {r.objects} | {r.f1_near:.4f} | {r.f1_volume:.4f} | "
                     f"{r.model_bytes:,.0f} | {r.train_seconds:.1f} |")  # fmt: skip
    return "\n".join(lines)


def worst_markdown(table: pd.DataFrame, worst: int = 3) -> str:
    """Each model's and category's worst objects by f1_near, as a Markdown table."""
    rows = table[table["object"].astype(str) != "mean"]
    lines = [f"Worst {worst} objects of each category by f1_near:", "", "| model | category | object | f1_near | f1_volume |", "|---|---|---|---|---|"]
    for (model, category), part in rows.groupby(["model", "category"], sort=True):
        for _, r in part.nsmallest(worst, "f1_near").iterrows():
            lines.append(f"| {model} | {category} | {r['object']} | {r.f1_near:.4f} | {r.f1_volume:.4f} |")
    return "\n".join(lines)


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
    if col.name in ("object", "category"):
        return col.map(lambda s: (0, int(s), "") if str(s).isdigit() else (1, 0, str(s)))
    return col


def summary_html(frame: pd.DataFrame, title: str = "implicit3d summary") -> str:
    """The summary table as a standalone HTML page (the report shows HTML, not CSV). With categories,
    the per-category means and each category's worst objects come first."""
    sections = []
    if has_categories(frame):
        sections.append(("Per category", _html_table(category_means(frame))))
        rows = frame[frame["object"].astype(str) != "mean"]
        worst = rows.sort_values("f1_near").groupby(["model", "category"], sort=True).head(3)
        worst = worst.sort_values(["model", "category", "f1_near"])[["model", "category", "object", "f1_near", "f1_volume", "path"]]
        sections.append(("Worst 3 objects of each category by f1_near", _html_table(worst)))
    sections.append(("Every object" if sections else "", _html_table(frame)))
    style = (
        "body{font-family:sans-serif;font-size:13px;margin:1em}table{border-collapse:collapse;margin-bottom:1.5em}"
        "th,td{border:1px solid #ccc;padding:3px 6px;text-align:right;white-space:nowrap}"
        "th{background:#eef;position:sticky;top:0}td:nth-child(-n+2){text-align:left}tr.mean{font-weight:bold;background:#f6f6e8}"
    )
    body = "".join((f"<h3>{html.escape(name)}</h3>" if name else "") + table for name, table in sections)
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title><style>{style}</style></head>"
        f"<body><h2>{html.escape(title)}</h2>{body}</body></html>\n"
    )


def _html_table(frame: pd.DataFrame) -> str:
    fmt = {"model_bytes": "{:,.0f}", "infer_points_per_s": "{:,.0f}", "train_seconds": "{:.1f}", "steps": "{:.0f}"}
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = []
    for _, row in frame.iterrows():
        cells = []
        for c in frame.columns:
            v = row[c]
            if pd.isna(v):
                text = ""
            elif isinstance(v, (float, np.floating)):
                text = fmt.get(c, "{:.4f}").format(v)
            elif isinstance(v, (int, np.integer)) and not isinstance(v, bool):
                text = fmt.get(c, "{}").format(v)
            else:
                text = str(v)
            cells.append(f"<td>{html.escape(text)}</td>")
        cls = ' class="mean"' if row.get("object") == "mean" or str(row.get("category", "")).startswith("(") else ""
        body.append(f"<tr{cls}>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
