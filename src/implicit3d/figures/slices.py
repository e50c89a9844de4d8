"""SDF cross-sections: the ground truth, a model's prediction and its sign errors on the three
axis-aligned planes through the origin."""

from __future__ import annotations

import functools
import os

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap, SymLogNorm
from matplotlib.patches import Circle, Patch

from ..evaluation import predict_numpy
from ..groundtruth import GroundTruth
from ..metrics import sign_error_map
from ..reconstruct import domain_sdf
from .style import axes_title, plt, save

# (normal axis, horizontal axis, vertical axis) of the three planes through the origin.
PLANES = ((2, 0, 1), (1, 0, 2), (0, 1, 2))
AXIS_NAMES = "xyz"
# Sign-error categories: 0 right outside, 1 right inside, 2 false inside, 3 false outside.
ERROR_COLORS = ["#ffffff", "#c8c8c8", "#d62728", "#1f77b4"]
ERROR_LABELS = ["outside (right)", "inside (right)", "false inside", "false outside"]
NOT_SAMPLED = "#f3ead2"


def slice_points(resolution: int, normal: int, horizontal: int, vertical: int, extent: float = 1.0) -> np.ndarray:
    """(resolution^2, 3) points of the plane `normal` = 0, rows along `vertical` (image order, origin lower)."""
    axis = np.linspace(-extent, extent, resolution)
    v, h = np.meshgrid(axis, axis, indexing="ij")
    points = np.zeros((resolution * resolution, 3))
    points[:, horizontal] = h.ravel()
    points[:, vertical] = v.ravel()
    return points


def slice_data(model: torch.nn.Module | None, truth: GroundTruth, resolution: int = 200) -> list[dict]:
    """Ground-truth and predicted SDF on the three axis-aligned planes through the origin
    (prediction None without a model)."""
    planes = [slice_points(resolution, *p) for p in PLANES]
    points = np.concatenate(planes)
    values = truth.sdf(points).reshape(len(PLANES), resolution, resolution)
    if model is None:
        return [{"plane": p, "truth": values[i], "pred": None, "points": planes[i]} for i, p in enumerate(PLANES)]
    pred = predict_numpy(model, points).astype(np.float64).reshape(len(PLANES), resolution, resolution)
    return [
        {"plane": p, "truth": values[i], "pred": pred[i], "points": planes[i]} for i, p in enumerate(PLANES)
    ]


def plot_slices(data: list[dict], out: str | os.PathLike, title: str = "", domain: str = "sphere") -> None:
    """3 x 3 panels: ground truth, prediction, sign error, for each plane."""
    layout = _layout(len(data), bool(title))
    fig = plt.figure(figsize=_size(len(data)))
    axes = np.array([[fig.add_axes(box) for box in row] for row in layout["axes"]])
    bars = [fig.add_axes(box) for box in layout["bars"]]
    _panels(fig, axes, data, domain, lambda im, row: fig.colorbar(im, cax=bars[row], label=COLORBAR_LABEL))
    fig.legend(handles=_legend_handles(), loc="lower center", bbox_to_anchor=(0.5, layout["legend"]), ncol=len(ERROR_LABELS) + 1, fontsize=9, frameon=False)
    if title:
        fig.suptitle(title, y=layout["title"])
    save(fig, out)


COLORBAR_LABEL = "SDF (negative inside)"


def _size(rows: int) -> tuple[float, float]:
    return (11, 3.4 * rows + 0.6)


@functools.cache
def _layout(rows: int, titled: bool) -> dict:
    """Where matplotlib's constrained layout puts the panels, colour bars, legend and title, worked
    out once per process on a stand-in figure with the same artists: laying out each figure anew
    took longer than drawing it. Boxes are (left, bottom, width, height) in figure fractions."""
    ramp = np.linspace(-1.0, 1.0, 8)
    values = np.add.outer(ramp, ramp) / 2
    stand_in = [{"plane": plane, "truth": values, "pred": -values, "points": slice_points(8, *plane)} for plane in PLANES[:1] * rows]
    fig, axes = plt.subplots(rows, 3, figsize=_size(rows), constrained_layout=True)
    axes = np.asarray(axes).reshape(rows, 3)
    bars = []
    _panels(fig, axes, stand_in, "cube", lambda im, row: bars.append(fig.colorbar(im, ax=axes[row, :2], shrink=0.85, label=COLORBAR_LABEL)))
    legend = fig.legend(handles=_legend_handles(), loc="outside lower center", ncol=len(ERROR_LABELS) + 1, fontsize=9, frameon=False)
    title = fig.suptitle("title") if titled else None
    FigureCanvasAgg(fig).draw()
    to_figure = fig.transFigure.inverted()
    out = {
        "axes": [[ax.get_position().bounds for ax in row] for row in axes],
        "bars": [bar.ax.get_position().bounds for bar in bars],
        "legend": legend.get_window_extent().transformed(to_figure).y0,
        "title": title.get_position()[1] if title else None,
    }
    plt.close(fig)
    return out


def _legend_handles() -> list[Patch]:
    handles = [Patch(facecolor=c, edgecolor="0.5", label=lbl) for c, lbl in zip(ERROR_COLORS, ERROR_LABELS, strict=True)]
    handles.append(Patch(facecolor=NOT_SAMPLED, edgecolor="0.5", label="outside the sampled volume"))
    return handles


def _panels(fig, axes, data: list[dict], domain: str, colorbar) -> None:
    """Each plane's row: ground truth and prediction (with `colorbar(image, row)`), and sign errors."""
    vmax = max(float(np.abs(d["truth"]).max()) for d in data) or 1.0
    # Logarithmic beyond +-0.02: models trained with a clamped loss predict small values
    # away from the surface, which a linear scale up to the volume's largest distance hides.
    norm = SymLogNorm(linthresh=0.02, vmin=-vmax, vmax=vmax)
    levels = np.arange(-1.0, 1.0001, 0.1)
    err_cmap = ListedColormap(ERROR_COLORS)
    for row, d in enumerate(data):
        normal, horizontal, vertical = d["plane"]
        extent = (-1, 1, -1, 1)
        inside_domain = (domain_sdf(d["points"], domain) <= 0).reshape(d["truth"].shape)
        errors = sign_error_map(d["truth"], d["pred"])
        wrong = float(np.mean(errors[inside_domain] >= 2)) if inside_domain.any() else float("nan")
        for col, (values, name) in enumerate([(d["truth"], "ground truth"), (d["pred"], "prediction")]):
            ax = axes[row, col]
            im = ax.imshow(values, origin="lower", extent=extent, cmap="RdBu", norm=norm)
            ax.contour(values, levels=levels, extent=extent, colors="k", linewidths=0.3, alpha=0.35)
            ax.contour(values, levels=[0.0], extent=extent, colors="k", linewidths=1.2)
            axes_title(ax, f"{name}, {AXIS_NAMES[normal]} = 0")
        colorbar(im, row)
        ax = axes[row, 2]
        ax.set_facecolor(NOT_SAMPLED)
        ax.imshow(np.ma.masked_where(~inside_domain, errors), origin="lower", extent=extent, cmap=err_cmap, vmin=-0.5, vmax=3.5, interpolation="nearest")
        ax.contour(d["truth"], levels=[0.0], extent=extent, colors="k", linewidths=0.8)
        axes_title(ax, f"sign errors ({wrong:.1%} wrong)")
        for ax in axes[row]:
            ax.set_xlabel(AXIS_NAMES[horizontal])
            ax.set_ylabel(AXIS_NAMES[vertical])
            ax.set_aspect("equal")
            if domain == "sphere":
                ax.add_patch(Circle((0, 0), 1.0, fill=False, ls="--", lw=0.8, color="0.4"))
