"""Meshes drawn with a z-buffer: flat-shaded faces seen by an orthographic camera, the one
`spheretrace.camera_rays` casts its rays from, so a mesh and its sphere-traced SDF line up pixel
for pixel. A compiled loop over the faces: far cheaper than matplotlib's 3D axes, which sort and
draw every face as a polygon."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import trimesh
from matplotlib.colors import to_rgb
from numba import njit

from ..spheretrace import headlight, view_basis

SUPERSAMPLE = 2  # samples per pixel side: averaging them smooths the faces' edges
MARGIN = 1.05  # the window around the framed mesh's projection


@dataclass(frozen=True)
class Camera:
    """An orthographic camera: `window` (left, right, bottom, top) on the plane through `center`
    spanned by `right` and `up` (model frame), looking along -`towards`; `light` is its headlight
    (`spheretrace.headlight`, as the sphere-traced images are lit)."""

    center: np.ndarray
    window: tuple[float, float, float, float]
    right: np.ndarray
    up: np.ndarray
    towards: np.ndarray
    light: np.ndarray

    @classmethod
    def framing(cls, mesh: trimesh.Trimesh, elev: float, azim: float, rotate: np.ndarray) -> Camera:
        """The camera of matplotlib's view_init(elev, azim) in the frame `rotate` puts the up axis
        in, its square window around `mesh`'s projection."""
        right, up, towards = view_basis(elev, azim, rotate)
        light = headlight(elev, azim, rotate)
        vertices = np.asarray(mesh.vertices, dtype=np.float64)
        if not len(vertices):
            return cls(np.zeros(3), (-1.0, 1.0, -1.0, 1.0), right, up, towards, light)
        center = (vertices.max(axis=0) + vertices.min(axis=0)) / 2
        x, y = (vertices - center) @ right, (vertices - center) @ up
        mid_x, mid_y = (x.max() + x.min()) / 2, (y.max() + y.min()) / 2
        half = max(x.max() - x.min(), y.max() - y.min()) / 2 * MARGIN or 1.0
        return cls(center, (mid_x - half, mid_x + half, mid_y - half, mid_y + half), right, up, towards, light)


def draw_mesh(mesh: trimesh.Trimesh, camera: Camera, resolution: int, color: str, light: np.ndarray) -> np.ndarray:
    """(resolution, resolution, 3) RGB in [0, 1]: the mesh's faces in `color`, shaded 0.3 + 0.7 |n . light|
    (|cos|: meshes with inconsistent winding still shade sensibly), on white."""
    samples = resolution * SUPERSAMPLE
    shade = np.zeros((samples, samples), dtype=np.float32)
    if len(mesh.faces):
        left, right, bottom, top = camera.window
        rel = np.asarray(mesh.vertices, dtype=np.float64) - camera.center
        px = (rel @ camera.right - left) / (right - left) * samples
        py = (top - rel @ camera.up) / (top - bottom) * samples
        depth = rel @ camera.towards
        face_shade = (0.3 + 0.7 * np.abs(np.asarray(mesh.face_normals) @ light)).astype(np.float32)
        faces = np.ascontiguousarray(mesh.faces, dtype=np.int64)
        _rasterize(px, py, depth, faces, face_shade, np.full((samples, samples), -np.inf), shade)
    # Per pixel: the mean shade of its covered samples in the colour, the rest white.
    blocks = (resolution, SUPERSAMPLE, resolution, SUPERSAMPLE)
    shaded = shade.reshape(blocks).mean(axis=(1, 3))
    covered = (shade > 0).reshape(blocks).mean(axis=(1, 3), dtype=np.float32)
    rgb = shaded[..., None] * np.asarray(to_rgb(color), dtype=np.float32) + (1.0 - covered)[..., None]
    return np.clip(rgb, 0.0, 1.0)


@njit(cache=True, nogil=True)
def _rasterize(px, py, depth, faces, face_shade, zbuffer, shade):  # pragma: no cover - compiled
    """Each face's covered pixel centres take its shade where it is nearer the eye than what is there."""
    height, width = shade.shape
    for f in range(faces.shape[0]):
        a, b, c = faces[f, 0], faces[f, 1], faces[f, 2]
        x0, y0, x1, y1, x2, y2 = px[a], py[a], px[b], py[b], px[c], py[c]
        area = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0)
        if area == 0.0:
            continue
        lo_x = max(int(np.floor(min(x0, x1, x2) - 0.5)), 0)
        hi_x = min(int(np.ceil(max(x0, x1, x2) - 0.5)), width - 1)
        lo_y = max(int(np.floor(min(y0, y1, y2) - 0.5)), 0)
        hi_y = min(int(np.ceil(max(y0, y1, y2) - 0.5)), height - 1)
        for row in range(lo_y, hi_y + 1):
            cy = row + 0.5
            for col in range(lo_x, hi_x + 1):
                cx = col + 0.5
                w0 = ((x1 - cx) * (y2 - cy) - (x2 - cx) * (y1 - cy)) / area
                w1 = ((x2 - cx) * (y0 - cy) - (x0 - cx) * (y2 - cy)) / area
                w2 = 1.0 - w0 - w1
                if w0 < 0.0 or w1 < 0.0 or w2 < 0.0:
                    continue
                z = w0 * depth[a] + w1 * depth[b] + w2 * depth[c]
                if z > zbuffer[row, col]:
                    zbuffer[row, col] = z
                    shade[row, col] = face_shade[f]
