"""A model's SDF sphere-traced beside its marching-cubes surface, and the steps each ray took."""

from __future__ import annotations

import os

import numpy as np
import trimesh
from matplotlib.colors import LogNorm, to_rgb

from .render import AZIM, ELEV, mesh_panel, render_camera, up_to_z
from .style import axes_title, plt, save


def plot_trace(
    field,
    recon: trimesh.Trimesh | None,
    truth: trimesh.Trimesh,
    out: str | os.PathLike,
    title: str = "",
    up: str = "y",
    max_faces: int = 1_000_000,
    **trace_kwargs,
) -> dict:
    """The reconstruction (marching cubes), the SDF `field` itself sphere-traced from the same view
    and framing (`spheretrace.trace_image` with the rendering's camera, pixel for pixel), and the steps
    per ray. Returns the trace's summary."""
    from ..spheretrace import trace_image

    camera = render_camera(truth, up)
    fig = plt.figure(figsize=(16.0, 5.7))
    side_w, side_h = 5.0 / 16.0, 5.0 / 5.7
    label = "marching cubes" if recon is None else f"marching cubes ({len(recon.faces):,} faces)"
    mesh_panel(fig.add_axes((0.0, 0.02, side_w, side_h)), recon, label, "#e0a060", camera, max_faces)
    trace = trace_image(field, center=camera.center, window=camera.window, rotate=up_to_z(up), elev=ELEV, azim=AZIM, **trace_kwargs)
    info = trace.summary()
    extent = camera.window
    rgb = np.where(trace.hit[..., None], trace.shade[..., None] * np.asarray(to_rgb("#e0a060")), 1.0)
    ax = fig.add_axes((side_w, 0.02, side_w, side_h))
    ax.imshow(rgb, extent=extent)
    axes_title(ax, f"sphere-traced SDF ({trace.hit.shape[0]}² rays, {info['hit_fraction']:.1%} hit)", fontsize=10)
    ax = fig.add_axes((2 * side_w, 0.02, side_w, side_h))
    steps = np.ma.masked_where(~trace.entered, trace.steps)
    im = ax.imshow(steps, extent=extent, cmap="magma", norm=LogNorm(vmin=1, vmax=max(2, int(trace.steps.max()))), interpolation="nearest")
    cap = "no cap" if info["cap"] is None else f"steps capped at {info['cap']:g}"
    axes_title(ax, f"SDF evaluations per ray: mean {info['mean_steps']:.1f} ({cap})", fontsize=10)
    bar = fig.colorbar(im, cax=fig.add_axes((3 * side_w + 0.005, 0.15, 0.01, 0.6)), label="SDF evaluations (log scale)")
    bar.set_ticks([t for t in (1, 2, 5, 10, 20, 50, 100, 200, 500) if t <= trace.steps.max()], labels=None)
    bar.ax.yaxis.set_major_formatter("{x:.0f}")
    bar.ax.minorticks_off()
    for ax in fig.axes[:3]:
        ax.set_axis_off()
    head = f"{title}   " if title else ""
    fig.suptitle(f"{head}sphere tracing: {info['mean_steps']:.1f} steps per ray (rays entering the volume), {info['hit_fraction']:.1%} of rays hit")
    save(fig, out)
    return info
