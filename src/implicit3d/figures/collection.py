"""Figures of a whole run: F1 near the surface against F1 in the volume, and model size against F1."""

from __future__ import annotations

import os

import pandas as pd

from .style import axes_title, colors, object_rows, plt, save


def plot_f1_scatter(frame: pd.DataFrame, out: str | os.PathLike) -> None:
    """F1 near vs F1 volume, one labelled point per object and model."""
    rows = object_rows(frame).dropna(subset=["f1_near", "f1_volume"])
    fig, ax = plt.subplots(figsize=(8, 7), constrained_layout=True)
    for (model, part), color in zip(rows.groupby("model", sort=True), colors(), strict=False):
        ax.scatter(part["f1_volume"], part["f1_near"], s=22, color=color, label=model, alpha=0.85)
        for _, r in part.iterrows() if len(rows) <= 100 else ():  # labels of more points only hide them
            ax.annotate(str(r["object"]), (r["f1_volume"], r["f1_near"]), fontsize=7, xytext=(3, 2), textcoords="offset points")
    lo = min(0.9, float(rows[["f1_near", "f1_volume"]].min().min()) - 0.02) if len(rows) else 0.0
    ax.plot([lo, 1], [lo, 1], ls="--", lw=0.8, color="0.5")
    ax.set_xlim(lo, 1.005)
    ax.set_ylim(lo, 1.005)
    ax.set_xlabel("F1 (inside) on volume test points")
    ax.set_ylabel("F1 (inside) on near-surface test points")
    axes_title(ax, "F1 per object")
    ax.grid(alpha=0.3)
    if len(rows):
        ax.legend(title="model")
    save(fig, out)


def plot_size_vs_f1(frame: pd.DataFrame, out: str | os.PathLike) -> None:
    """Model size vs F1 near and volume: faint points per object, a labelled mean per model."""
    rows = object_rows(frame)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.8), constrained_layout=True, sharex=True)
    for ax, col, name in zip(axes, ("f1_near", "f1_volume"), ("near-surface", "volume"), strict=True):
        for (model, part), color in zip(rows.groupby("model", sort=True), colors(), strict=False):
            ax.scatter(part["model_bytes"], part[col], s=10, color=color, alpha=0.3)
            x, y = part["model_bytes"].mean(), part[col].mean()
            ax.scatter([x], [y], s=80, color=color, edgecolor="k", label=model, zorder=3)
            ax.annotate(model, (x, y), fontsize=9, xytext=(5, 5), textcoords="offset points")
        ax.set_xscale("log")
        ax.set_xlabel("model size (bytes, as stored)")
        ax.set_ylabel(f"F1 (inside), {name}")
        ax.grid(alpha=0.3, which="both")
    axes[0].legend(title="model (mean)")
    fig.suptitle("model size vs F1")
    save(fig, out)
