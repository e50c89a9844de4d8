"""Shaded renderings of a reconstruction beside the ground-truth mesh, from one view."""

from __future__ import annotations

import os

import numpy as np
import trimesh

from ..simplify import simplify
from .style import plt, save

ELEV, AZIM = 20, -60  # the renderings' view (matplotlib's view_init, degrees, up axis along z)


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
    rotate, center, half = render_frame(truth, up)
    fig = plt.figure(figsize=(11, 5.6))
    panels = [(truth, f"ground truth ({len(truth.faces):,} faces)", "#8fa8c8"), (recon, recon_label, "#e0a060")]
    for i, (mesh, label, color) in enumerate(panels):
        ax = fig.add_subplot(1, 2, i + 1, projection="3d")
        mesh_panel(ax, mesh, label, color, rotate, center, half, max_faces)
    if title:
        fig.suptitle(title)
    fig.subplots_adjust(left=0, right=1, bottom=0, top=0.9, wspace=0)
    save(fig, out)


def view_camera(ax, center: np.ndarray, half: float) -> dict:
    """The camera of a 3D axes set up by `mesh_panel`, for `spheretrace.camera_rays`: the axes'
    view window on the plane through `center` (frame units) and the eye's distance (None for an
    orthographic projection), read off matplotlib's own projection."""
    from mpl_toolkits.mplot3d import proj3d

    from ..spheretrace import view_basis

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


def render_frame(truth: trimesh.Trimesh, up: str) -> tuple[np.ndarray, np.ndarray, float]:
    """The renderings' frame: rotation putting `up` along z, and the center and half-size of the
    ground truth's bounding box there (plus 5%)."""
    rotate = _up_to_z(up)
    verts = truth.vertices @ rotate.T
    center = (verts.max(axis=0) + verts.min(axis=0)) / 2
    half = float((verts.max(axis=0) - verts.min(axis=0)).max()) / 2 * 1.05 or 1.0
    return rotate, center, half


def mesh_panel(ax, mesh, label, color, rotate, center, half, max_faces) -> None:
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

    from ..spheretrace import view_basis

    eye = view_basis(elev, azim)[2]  # towards the eye, in the plotting frame
    closed = mesh.is_watertight and mesh.is_winding_consistent and mesh.volume > 0
    # Closed and outward-oriented: about half the faces turn away from the camera and are culled.
    mesh = simplify(mesh, 2 * max_faces if closed else max_faces, method="cluster")
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
