"""Figures for looking at the results (PNG, headless matplotlib) and the summary as an
HTML table for the Snakemake report.

Per object: SDF cross-sections (ground truth, prediction, sign errors) and a rendering
of the reconstruction next to the ground-truth mesh. Per collection: F1 near vs volume
per object, and model size vs F1 per architecture.
"""

from __future__ import annotations

import html
import io
import logging
import math
import os

import matplotlib
import numpy as np
import pandas as pd
import torch
import trimesh
from PIL import Image

from .evaluation import predict_numpy
from .groundtruth import GroundTruth
from .io import atomic_path, read_json
from .metrics import sign_error_map
from .reconstruct import domain_sdf
from .summary import category_means, has_categories, read_summary

matplotlib.use("Agg")  # headless: no display on cluster nodes or CI

import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
from matplotlib.colors import ListedColormap, LogNorm, SymLogNorm, to_rgb  # noqa: E402
from matplotlib.patches import Circle, Patch  # noqa: E402

log = logging.getLogger("implicit3d")

# (normal axis, horizontal axis, vertical axis) of the three planes through the origin.
PLANES = ((2, 0, 1), (1, 0, 2), (0, 1, 2))
AXIS_NAMES = "xyz"
# Sign-error categories: 0 right outside, 1 right inside, 2 false inside, 3 false outside.
ERROR_COLORS = ["#ffffff", "#c8c8c8", "#d62728", "#1f77b4"]
ERROR_LABELS = ["outside (right)", "inside (right)", "false inside", "false outside"]
NOT_SAMPLED = "#f3ead2"
ELEV, AZIM = 20, -60  # the renderings' view (matplotlib's view_init, degrees, up axis along z)


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
    vmax = max(float(np.abs(d["truth"]).max()) for d in data) or 1.0
    # Logarithmic beyond +-0.02: models trained with a clamped loss predict small values
    # away from the surface, which a linear scale up to the volume's largest distance hides.
    norm = SymLogNorm(linthresh=0.02, vmin=-vmax, vmax=vmax)
    levels = np.arange(-1.0, 1.0001, 0.1)
    fig, axes = plt.subplots(len(data), 3, figsize=(11, 3.4 * len(data) + 0.6), constrained_layout=True)
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
            ax.set_title(f"{name}, {AXIS_NAMES[normal]} = 0")
        fig.colorbar(im, ax=axes[row, :2], shrink=0.85, label="SDF (negative inside)")
        ax = axes[row, 2]
        ax.set_facecolor(NOT_SAMPLED)
        ax.imshow(np.ma.masked_where(~inside_domain, errors), origin="lower", extent=extent, cmap=err_cmap, vmin=-0.5, vmax=3.5, interpolation="nearest")
        ax.contour(d["truth"], levels=[0.0], extent=extent, colors="k", linewidths=0.8)
        ax.set_title(f"sign errors ({wrong:.1%} wrong)")
        for ax in axes[row]:
            ax.set_xlabel(AXIS_NAMES[horizontal])
            ax.set_ylabel(AXIS_NAMES[vertical])
            ax.set_aspect("equal")
            if domain == "sphere":
                ax.add_patch(Circle((0, 0), 1.0, fill=False, ls="--", lw=0.8, color="0.4"))
    handles = [Patch(facecolor=c, edgecolor="0.5", label=lbl) for c, lbl in zip(ERROR_COLORS, ERROR_LABELS, strict=True)]
    handles.append(Patch(facecolor=NOT_SAMPLED, edgecolor="0.5", label="outside the sampled volume"))
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize=9, frameon=False)
    if title:
        fig.suptitle(title)
    _save(fig, out)


def plot_sign_conventions(mesh: trimesh.Trimesh, out: str | os.PathLike, title: str = "", resolution: int = 200, seal: float | None = None) -> dict:
    """The ground truth of one mesh under both sign conventions, on the three planes through
    the origin: the filled SDF, the solid SDF, and where they differ. Returns the inside
    fraction of each convention on the planes."""
    kwargs = {} if seal is None else {"seal": seal}
    data = {sign: slice_data(None, GroundTruth(mesh, sign=sign, **kwargs), resolution) for sign in ("filled", "solid")}
    vmax = max(float(np.abs(d["truth"]).max()) for d in data["filled"]) or 1.0
    norm = SymLogNorm(linthresh=0.02, vmin=-vmax, vmax=vmax)
    compare = ListedColormap(["#ffffff", "#8c8c8c", "#ff9f1c", "#1f77b4"])  # outside, both, filled only, solid only
    fig, axes = plt.subplots(len(PLANES), 3, figsize=(11, 3.4 * len(PLANES) + 0.6), constrained_layout=True)
    fraction = {}
    for sign in data:
        fraction[sign] = float(np.mean([np.mean(d["truth"] < 0) for d in data[sign]]))
    for row, (filled, solid) in enumerate(zip(data["filled"], data["solid"], strict=True)):
        normal, horizontal, vertical = filled["plane"]
        extent = (-1, 1, -1, 1)
        for col, (d, name) in enumerate(((filled, "filled"), (solid, "solid"))):
            ax = axes[row, col]
            im = ax.imshow(d["truth"], origin="lower", extent=extent, cmap="RdBu", norm=norm)
            ax.contour(d["truth"], levels=[0.0], extent=extent, colors="k", linewidths=1.0)
            ax.set_title(f"{name}, {AXIS_NAMES[normal]} = 0")
        fig.colorbar(im, ax=axes[row, :2], shrink=0.85, label="SDF (negative inside)")
        a, b = filled["truth"] < 0, solid["truth"] < 0
        category = np.select([a & b, a & ~b, ~a & b], [1, 2, 3], default=0)
        axes[row, 2].imshow(category, origin="lower", extent=extent, cmap=compare, vmin=-0.5, vmax=3.5, interpolation="nearest")
        axes[row, 2].set_title("inside under each")
        for ax in axes[row]:
            ax.set_xlabel(AXIS_NAMES[horizontal])
            ax.set_ylabel(AXIS_NAMES[vertical])
            ax.set_aspect("equal")
    labels = ["inside under both", "filled only (enclosed, not material)", "solid only"]
    handles = [Patch(facecolor=c, edgecolor="0.5", label=lbl) for c, lbl in zip(["#8c8c8c", "#ff9f1c", "#1f77b4"], labels, strict=True)]
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize=9, frameon=False)
    fig.suptitle(f"{title}   inside on these planes: filled {fraction['filled']:.1%}, solid {fraction['solid']:.1%}".strip())
    _save(fig, out)
    return fraction


def plot_render(
    recon: trimesh.Trimesh | None,
    truth: trimesh.Trimesh,
    out: str | os.PathLike,
    title: str = "",
    recon_label: str = "reconstruction",
    max_faces: int = 30000,
    up: str = "y",
) -> None:
    """Shaded renderings of the ground truth and the reconstruction from the same view."""
    rotate, center, half = _render_frame(truth, up)
    fig = plt.figure(figsize=(11, 5.6))
    panels = [(truth, f"ground truth ({len(truth.faces):,} faces)", "#8fa8c8"), (recon, recon_label, "#e0a060")]
    for i, (mesh, label, color) in enumerate(panels):
        ax = fig.add_subplot(1, 2, i + 1, projection="3d")
        _mesh_panel(ax, mesh, label, color, rotate, center, half, max_faces)
    if title:
        fig.suptitle(title)
    fig.subplots_adjust(left=0, right=1, bottom=0, top=0.9, wspace=0)
    _save(fig, out)


def plot_trace(
    field,
    recon: trimesh.Trimesh | None,
    truth: trimesh.Trimesh,
    out: str | os.PathLike,
    title: str = "",
    up: str = "y",
    max_faces: int = 30000,
    **trace_kwargs,
) -> dict:
    """The reconstruction (marching cubes), the SDF `field` itself sphere-traced from the same view
    and framing (`spheretrace.trace_image`, pixel for pixel the 3D panel's camera), and the steps
    per ray. Returns the trace's summary."""
    from .spheretrace import trace_image

    rotate, center, half = _render_frame(truth, up)
    fig = plt.figure(figsize=(16.0, 5.7))
    side_w, side_h = 5.0 / 16.0, 5.0 / 5.7
    ax = fig.add_axes((0.0, 0.02, side_w, side_h), projection="3d")
    label = "marching cubes" if recon is None else f"marching cubes ({len(recon.faces):,} faces)"
    _mesh_panel(ax, recon, label, "#e0a060", rotate, center, half, max_faces)
    camera = _view_camera(ax, center, half)
    trace = trace_image(field, center=center @ rotate, rotate=rotate, elev=ELEV, azim=AZIM, **camera, **trace_kwargs)
    info = trace.summary()
    extent = camera["window"]
    rgb = np.where(trace.hit[..., None], trace.shade[..., None] * np.asarray(to_rgb("#e0a060")), 1.0)
    ax = fig.add_axes((side_w, 0.02, side_w, side_h))
    ax.imshow(rgb, extent=extent)
    ax.set_title(f"sphere-traced SDF ({trace.hit.shape[0]}² rays, {info['hit_fraction']:.1%} hit)", fontsize=10)
    ax = fig.add_axes((2 * side_w, 0.02, side_w, side_h))
    steps = np.ma.masked_where(~trace.entered, trace.steps)
    im = ax.imshow(steps, extent=extent, cmap="magma", norm=LogNorm(vmin=1, vmax=max(2, int(trace.steps.max()))), interpolation="nearest")
    cap = "no cap" if info["cap"] is None else f"steps capped at {info['cap']:g}"
    ax.set_title(f"SDF evaluations per ray: mean {info['mean_steps']:.1f} ({cap})", fontsize=10)
    bar = fig.colorbar(im, cax=fig.add_axes((3 * side_w + 0.005, 0.15, 0.01, 0.6)), label="SDF evaluations (log scale)")
    bar.set_ticks([t for t in (1, 2, 5, 10, 20, 50, 100, 200, 500) if t <= trace.steps.max()], labels=None)
    bar.ax.yaxis.set_major_formatter("{x:.0f}")
    bar.ax.minorticks_off()
    for ax in fig.axes[1:3]:
        ax.set_axis_off()
    head = f"{title}   " if title else ""
    fig.suptitle(f"{head}sphere tracing: {info['mean_steps']:.1f} steps per ray (rays entering the volume), {info['hit_fraction']:.1%} of rays hit")
    _save(fig, out)
    return info


def _view_camera(ax, center: np.ndarray, half: float) -> dict:
    """The camera of a 3D axes set up by `_mesh_panel`, for `spheretrace.camera_rays`: the axes'
    view window on the plane through `center` (frame units) and the eye's distance (None for an
    orthographic projection), read off matplotlib's own projection."""
    from mpl_toolkits.mplot3d import proj3d

    from .spheretrace import view_basis

    u, _, w = view_basis(ELEV, AZIM)  # in the rotated (plotting) frame
    proj = ax.get_proj()

    def project(p):
        x, y, _ = proj3d.proj_transform(*p, proj)
        return np.array([x, y])

    origin, d = project(center), 0.5 * half
    scale = float(np.linalg.norm(project(center + d * u) - origin)) / d
    ratio = float(np.linalg.norm(project(center + d * w + d * u) - project(center + d * w))) / d / scale
    (x0, y0), (x1, y1) = ax.viewLim.get_points()
    window = ((x0 - origin[0]) / scale, (x1 - origin[0]) / scale, (y0 - origin[1]) / scale, (y1 - origin[1]) / scale)
    distance = d * ratio / (ratio - 1) if ratio > 1 + 1e-6 else None  # magnification D / (D - d)
    return {"window": window, "distance": distance}


def _render_frame(truth: trimesh.Trimesh, up: str) -> tuple[np.ndarray, np.ndarray, float]:
    """The renderings' frame: rotation putting `up` along z, and the center and half-size of the
    ground truth's bounding box there (plus 5%)."""
    rotate = _up_to_z(up)
    verts = truth.vertices @ rotate.T
    center = (verts.max(axis=0) + verts.min(axis=0)) / 2
    half = float((verts.max(axis=0) - verts.min(axis=0)).max()) / 2 * 1.05 or 1.0
    return rotate, center, half


def _mesh_panel(ax, mesh, label, color, rotate, center, half, max_faces) -> None:
    """One mesh, shaded, on a 3D axes in the renderings' view (`ELEV`, `AZIM`)."""
    ax.view_init(elev=ELEV, azim=AZIM)
    ax.set_box_aspect((1, 1, 1), zoom=1.4)  # 3D axes pad a lot by default
    for set_lim, c in zip((ax.set_xlim, ax.set_ylim, ax.set_zlim), center, strict=True):
        set_lim(c - half, c + half)
    ax.set_axis_off()
    ax.set_title(label, fontsize=10)
    if mesh is None or len(mesh.faces) == 0:
        ax.text2D(0.5, 0.5, "empty level set:\nthe model predicts no inside", ha="center", va="center", transform=ax.transAxes)
        return
    ax.add_collection3d(_shaded_faces(mesh, rotate, color, max_faces, elev=ELEV, azim=AZIM))


def _up_to_z(up: str) -> np.ndarray:
    """Rotation that puts the mesh's up axis along matplotlib's vertical z axis."""
    if up == "z":
        return np.eye(3)
    if up == "y":
        return np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])  # +90 degrees about x: y -> z
    raise ValueError(f"unknown up axis '{up}' (choose from y, z)")


def _shaded_faces(mesh, rotate, color, max_faces, elev, azim):
    from matplotlib.colors import to_rgb
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection

    from .spheretrace import view_basis

    eye = view_basis(elev, azim)[2]  # towards the eye, in the plotting frame
    closed = mesh.is_watertight and mesh.is_winding_consistent and mesh.volume > 0
    # Closed and outward-oriented: about half the faces turn away from the camera and are culled.
    mesh = cluster_decimate(mesh, 2 * max_faces if closed else max_faces)
    faces = np.asarray(mesh.faces)
    normals = np.asarray(mesh.face_normals) @ rotate.T
    if closed:
        front = normals @ eye > 0
        faces, normals = faces[front], normals[front]
    tris = np.asarray(mesh.vertices)[faces] @ rotate.T
    light = eye + np.array([0.0, 0.0, 0.6])  # a headlight from slightly above
    light /= np.linalg.norm(light)
    # |cos|: meshes with inconsistent winding still shade sensibly.
    shade = 0.3 + 0.7 * np.abs(normals @ light)
    colors = np.clip(np.outer(shade, to_rgb(color)), 0, 1)
    # Edges in the face colour close the hairline seams antialiasing leaves between faces.
    return Poly3DCollection(tris, facecolors=colors, edgecolors=colors, linewidths=0.3)


def cluster_decimate(mesh: trimesh.Trimesh, max_faces: int) -> trimesh.Trimesh:
    """At most `max_faces` faces by vertex clustering: vertices in one cell of a grid merge
    into their mean and collapsed faces go. Crude but fast, and unlike a random subset of
    faces it leaves no holes. The cell grows until the face count fits."""
    if len(mesh.faces) <= max_faces:
        return mesh
    vertices, faces = np.asarray(mesh.vertices), np.asarray(mesh.faces)
    cell = math.sqrt(2.0 * float(mesh.area) / max_faces)  # ~2 faces per occupied cell on a surface
    while True:
        keys = np.floor((vertices - vertices.min(axis=0)) / cell).astype(np.int64)
        _, inverse = np.unique(keys, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        merged = inverse[faces]
        merged = merged[(merged[:, 0] != merged[:, 1]) & (merged[:, 1] != merged[:, 2]) & (merged[:, 0] != merged[:, 2])]
        if len(merged) <= max_faces:
            break
        cell *= 1.25
    counts = np.bincount(inverse)
    centers = np.stack([np.bincount(inverse, weights=vertices[:, k]) for k in range(3)], axis=1) / counts[:, None]
    return trimesh.Trimesh(centers, merged, process=False)


def plot_f1_scatter(frame: pd.DataFrame, out: str | os.PathLike) -> None:
    """F1 near vs F1 volume, one labelled point per object and model."""
    rows = _object_rows(frame).dropna(subset=["f1_near", "f1_volume"])
    fig, ax = plt.subplots(figsize=(8, 7), constrained_layout=True)
    for (model, part), color in zip(rows.groupby("model", sort=True), _colors(), strict=False):
        ax.scatter(part["f1_volume"], part["f1_near"], s=22, color=color, label=model, alpha=0.85)
        for _, r in part.iterrows() if len(rows) <= 100 else ():  # labels of more points only hide them
            ax.annotate(str(r["object"]), (r["f1_volume"], r["f1_near"]), fontsize=7, xytext=(3, 2), textcoords="offset points")
    lo = min(0.9, float(rows[["f1_near", "f1_volume"]].min().min()) - 0.02) if len(rows) else 0.0
    ax.plot([lo, 1], [lo, 1], ls="--", lw=0.8, color="0.5")
    ax.set_xlim(lo, 1.005)
    ax.set_ylim(lo, 1.005)
    ax.set_xlabel("F1 (inside) on volume test points")
    ax.set_ylabel("F1 (inside) on near-surface test points")
    ax.set_title("F1 per object")
    ax.grid(alpha=0.3)
    if len(rows):
        ax.legend(title="model")
    _save(fig, out)


def plot_size_vs_f1(frame: pd.DataFrame, out: str | os.PathLike) -> None:
    """Model size vs F1 near and volume: faint points per object, a labelled mean per model."""
    rows = _object_rows(frame)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.8), constrained_layout=True, sharex=True)
    for ax, col, name in zip(axes, ("f1_near", "f1_volume"), ("near-surface", "volume"), strict=True):
        for (model, part), color in zip(rows.groupby("model", sort=True), _colors(), strict=False):
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
    _save(fig, out)


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


# --- file-to-file entry points (what the Snakemake scripts call) ---


def slices_figure(
    model_in: str,
    truth_in: str,
    out: str,
    title: str = "",
    resolution: int = 200,
    domain: str = "sphere",
    eval_in: str | None = None,
    sampling: dict | None = None,
) -> None:
    """The slices figure; the ground truth is the one `sampling` (the config section) defines."""
    from .mesh import load_normalized
    from .training import load_model

    model, _ = load_model(model_in)
    data = slice_data(model, GroundTruth.from_config(load_normalized(truth_in), sampling or {}), resolution)
    if eval_in:
        rec = read_json(eval_in)
        title += f"   F1 near {rec.get('f1_near', float('nan')):.4f}, volume {rec.get('f1_volume', float('nan')):.4f}"
    plot_slices(data, out, title, domain)
    log.info("wrote %s: SDF slices at %d^2 points per plane", out, resolution)


def render_figure(
    recon_in: str, truth_in: str, out: str, title: str = "", metrics_in: str | None = None, max_faces: int = 30000, up: str = "y"
) -> None:
    from .mesh import load_normalized

    recon = load_normalized(recon_in)
    label = f"reconstruction ({len(recon.faces):,} faces)"
    if metrics_in:
        rec = read_json(metrics_in)
        label += f"\nchamfer {rec['chamfer']:.4f}, normal consistency {rec['normal_consistency']:.3f}"
    plot_render(recon if len(recon.faces) else None, load_normalized(truth_in), out, title, label, max_faces, up)
    log.info("wrote %s: rendering of %d reconstructed faces (at most %d drawn)", out, len(recon.faces), max_faces)


def trace_figure(
    model_in: str,
    recon_in: str,
    truth_in: str,
    out: str,
    title: str = "",
    cap: float | None = 0.1,
    bound: str = "sphere",
    up: str = "y",
    max_faces: int = 30000,
    resolution: int = 256,
    max_steps: int = 128,
    threads: int = 1,
) -> dict:
    """The sphere-tracing figure of a saved model; `cap` bounds each step (the loss clamp, see
    `spheretrace.step_cap`), `bound` is the sampled volume (sphere or cube)."""
    from .mesh import load_normalized
    from .spheretrace import model_field
    from .training import load_model

    torch.set_num_threads(max(1, int(threads)))
    model, _ = load_model(model_in)
    recon = load_normalized(recon_in)
    kwargs = {"resolution": resolution, "cap": cap, "bound": bound, "max_steps": max_steps}
    info = plot_trace(model_field(model), recon if len(recon.faces) else None, load_normalized(truth_in), out, title, up, max_faces, **kwargs)
    log.info("wrote %s: sphere tracing %s", out, ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in info.items()))
    return info


def collection_figures(summary_csv: str, f1_out: str | None = None, size_out: str | None = None) -> None:
    frame = read_summary(summary_csv)
    if f1_out:
        plot_f1_scatter(frame, f1_out)
    if size_out:
        plot_size_vs_f1(frame, size_out)


def summary_html_file(summary_csv: str, out: str) -> None:
    frame = read_summary(summary_csv)
    with atomic_path(out) as tmp:
        tmp.write_text(summary_html(frame))


def _object_rows(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["object"].astype(str) != "mean"]


def _colors():
    return plt.rcParams["axes.prop_cycle"].by_key()["color"] * 10


def _save(fig, out: str | os.PathLike) -> None:
    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=100, format="png")
    plt.close(fig)
    # A 256-colour palette: the same picture to the eye in about 40 % of the bytes (the figures
    # were the largest thing a run keeps per object after the samples).
    image = Image.open(buffer).convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    with atomic_path(out) as tmp:
        image.save(tmp, format="PNG", optimize=True)
