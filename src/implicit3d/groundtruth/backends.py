"""Other ground-truth libraries, for comparison: each with its own sign convention.

| method | sign | notes |
|---|---|---|
| `pysdf` | ray parity | fast; right only on watertight meshes |
| `trimesh` | trimesh's `contains` | slow; watertight meshes only |
| `mesh_to_sdf` | virtual depth scans (the original assignment's tool) | flips signs near the surface; needs EGL |

All return float64 SDF, negative inside.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import trimesh

from ..errors import first_line


def _trimesh(mesh: trimesh.Trimesh, points: np.ndarray, chunk: int = 1000) -> np.ndarray:
    # trimesh returns positive inside. Small chunks: its closest-point candidates for points far
    # from a large mesh take ~2 GB per 1000 points (20000 at once exhausted 24 GB). Its inside
    # test casts rays in pure Python (~10 ms/point) unless the embreex package is installed.
    out = np.empty(len(points))
    for start in range(0, len(points), chunk):
        out[start : start + chunk] = -trimesh.proximity.signed_distance(mesh, points[start : start + chunk])
    return out


def _pysdf(mesh: trimesh.Trimesh, points: np.ndarray) -> np.ndarray:
    from pysdf import SDF

    vertices = np.ascontiguousarray(mesh.vertices, dtype=np.float32)
    faces = np.ascontiguousarray(mesh.faces, dtype=np.uint32)
    sdf = SDF(vertices, faces)(np.ascontiguousarray(points, dtype=np.float32))
    return -np.asarray(sdf, dtype=np.float64).reshape(-1)  # pysdf: positive inside


def _mesh_to_sdf(mesh: trimesh.Trimesh, points: np.ndarray) -> np.ndarray:
    _prepare_mesh_to_sdf()
    from mesh_to_sdf import mesh_to_sdf

    plain = trimesh.Trimesh(np.asarray(mesh.vertices), np.asarray(mesh.faces), process=False)
    sdf = mesh_to_sdf(
        plain,
        points,
        surface_point_method="scan",
        sign_method="normal",
        scan_count=MESH_TO_SDF_SCANS,
        scan_resolution=MESH_TO_SDF_RESOLUTION,
    )
    return np.asarray(sdf, dtype=np.float64).reshape(-1)  # already negative inside


def _prepare_mesh_to_sdf() -> None:
    """Headless EGL rendering, numpy-2 compatibility and one reused renderer for mesh_to_sdf."""
    if "OpenGL" not in sys.modules:
        os.environ.setdefault("PYOPENGL_PLATFORM", "egl")  # must precede the first OpenGL import
    if not hasattr(np, "infty"):
        np.infty = np.inf  # pyrender 0.1.45 uses np.infty, removed in numpy 2
    import mesh_to_sdf.scan as scan
    import mesh_to_sdf.surface_point_cloud as cloud

    if getattr(scan, "_implicit3d_patched", False):
        return
    scan.render_normal_and_depth_buffers = _render_normal_and_depth
    cloud.KDTree = _ExactKDTree
    scan._implicit3d_patched = True


class _ExactKDTree:
    """Drop-in for sklearn's KDTree in mesh_to_sdf (same exact neighbours): scipy builds
    the tree over its ~5M scan points several times faster and queries on all cores."""

    def __init__(self, points: np.ndarray):
        from scipy.spatial import cKDTree

        self._tree = cKDTree(points)

    def query(self, points: np.ndarray, k: int = 1):
        # k as a list keeps the (n, k) shape sklearn returns, also for k = 1.
        return self._tree.query(points, k=list(range(1, k + 1)), workers=-1)


_RENDERERS: dict = {}


def _render_normal_and_depth(mesh, camera, camera_transform, resolution):
    """mesh_to_sdf's renderer, minus a new EGL context and mesh upload for each of its 100 scans."""
    import pyrender
    from mesh_to_sdf import pyrender_wrapper as wrapper

    renderer = _RENDERERS.get(resolution)
    if renderer is None:
        renderer = pyrender.OffscreenRenderer(resolution, resolution)
        renderer._renderer._program_cache = wrapper.CustomShaderCache()
        _RENDERERS[resolution] = renderer
    cached = _RENDERERS.get("mesh")
    if cached is None or cached[0] is not mesh:
        cached = (mesh, pyrender.Mesh.from_trimesh(mesh, smooth=False))
        _RENDERERS["mesh"] = cached
    scene = pyrender.Scene()
    scene.add(cached[1])
    scene.add(camera, pose=camera_transform)
    wrapper.suppress_multisampling = True
    try:
        return renderer.render(scene, flags=pyrender.RenderFlags.SKIP_CULL_FACES)
    finally:
        wrapper.suppress_multisampling = False


# mesh_to_sdf's own defaults: 100 virtual depth scans of 400 x 400 pixels.
MESH_TO_SDF_SCANS = 100
MESH_TO_SDF_RESOLUTION = 400

BACKENDS = {"trimesh": _trimesh, "pysdf": _pysdf, "mesh_to_sdf": _mesh_to_sdf}


def backend_unavailable(method: str) -> str | None:
    """Why backend `method` cannot run here (missing package), or None if it can."""
    module = {"trimesh": "rtree", "pysdf": "pysdf", "mesh_to_sdf": "mesh_to_sdf"}[method]
    try:
        if method == "mesh_to_sdf":
            _prepare_mesh_to_sdf()
        else:
            __import__(module)
    except Exception as exc:  # ImportError, or OpenGL/EGL failing to load
        return f"{method} backend unavailable: {first_line(exc)}"
    return None
