"""The collection's report stages: the summary as an HTML page, and the figures of the whole run."""

from __future__ import annotations

from ..figures import plot_f1_scatter, plot_size_vs_f1
from ..io import atomic_path
from ..summary import read_summary, summary_html, worst_objects


def summary_page(summary_csv: str, out: str) -> None:
    """results/summary.html: the summary table (per-category means and worst objects first, where the
    collection has categories)."""
    with atomic_path(out) as tmp:
        tmp.write_text(summary_html(read_summary(summary_csv)))


def collection_figures(summary_csv: str, f1_out: str | None = None, size_out: str | None = None) -> None:
    """F1 near against F1 volume per object (`f1_out`), and model size against F1 (`size_out`)."""
    frame = read_summary(summary_csv)
    if f1_out:
        plot_f1_scatter(frame, f1_out)
    if size_out:
        plot_size_vs_f1(frame, size_out)


def worst(summary_csv: str, out: str, count: int) -> None:
    """results/figures/worst.csv: each model's `count` worst objects by F1 near (in each category),
    the objects whose figures are drawn when products.figures_for is a number."""
    with atomic_path(out) as tmp:
        worst_objects(read_summary(summary_csv), count).to_csv(tmp, index=False)
