"""Shaded renderings of a reconstruction beside the ground-truth mesh, from one view."""

from __future__ import annotations

import os

import numpy as np
import trimesh

from ..simplify import simplify
from .raster import Camera, draw_mesh
from .style import axes_title, plt, save

ELEV, AZIM = 20, -60  # the renderings' view (elevation and azimuth in degrees, as matplotlib's view_init)
PANEL_PIXELS = 500  # pixels per side of a rendering, about its size in the figure


def plot_render(
    recon: trimesh.Trimesh | None,
    truth: trimesh.Trimesh,
    out: str | os.PathLike,
    title: str = "",
    recon_label: str = "reconstruction",
    max_faces: int = 1_000_000,
    up: str = "y",
) -> None:
    """Shaded renderings of the ground truth and the reconstruction from the same view."""
    camera = render_camera(truth, up)
    fig = plt.figure(figsize=(11, 5.6))
    panels = [(truth, f"ground truth ({len(truth.faces):,} faces)", "#8fa8c8"), (recon, recon_label, "#e0a060")]
    for i, (mesh, label, color) in enumerate(panels):
        mesh_panel(fig.add_axes((i * 0.5, 0.0, 0.5, 0.9)), mesh, label, color, camera, max_faces)
    if title:
        fig.suptitle(title)
    save(fig, out)


def render_camera(truth: trimesh.Trimesh, up: str) -> Camera:
    """The renderings' camera: the view (`ELEV`, `AZIM`) with `up` vertical, framing the ground truth."""
    return Camera.framing(truth, ELEV, AZIM, up_to_z(up))


def mesh_panel(ax, mesh, label, color, camera: Camera, max_faces: int) -> None:
    """One mesh, shaded, on a plain axes in the renderings' view."""
    ax.set_axis_off()
    axes_title(ax, label, fontsize=10)
    if mesh is None or len(mesh.faces) == 0:
        ax.text(0.5, 0.5, "empty level set:\nthe model predicts no inside", ha="center", va="center", transform=ax.transAxes)
        return
    image = draw_mesh(simplify(mesh, max_faces, method="cluster"), camera, PANEL_PIXELS, color, camera.light)
    ax.imshow(image, extent=camera.window, interpolation="nearest")


def up_to_z(up: str) -> np.ndarray:
    """Rotation that puts the mesh's up axis along the vertical z axis of the view."""
    if up == "z":
        return np.eye(3)
    if up == "y":
        return np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])  # +90 degrees about x: y -> z
    raise ValueError(f"unknown up axis '{up}' (choose from y, z)")
