"""Ground truth for one mesh: the signed distance under a sign convention, and the surface
near-surface points are drawn from.

`exact` (the default method) computes exact point-to-triangle distances and takes the sign
from one of two conventions:

* `filled` (default): inside is what the outside cannot reach; enclosed cavities are
  inside and openings narrower than `seal` count as closed (see `filled`). Its distance is
  to the boundary of the filled solid, and its surface is that boundary.
* `solid`: the material as modelled; thin walls stay thin, cavities are outside (see `solid`).
  It lies within the filled solid, so it also depends on `seal`.

The other methods are other libraries with their own signs (see `backends`).
"""

from __future__ import annotations

import hashlib
import time

import numpy as np
import trimesh

from .backends import BACKENDS
from .distance import DistanceBounds, Surface, degenerate
from .filled import FilledSign
from .guards import implausible, max_distance
from .holes import with_narrow_holes_capped
from .morton import morton_order
from .nearest import TriangleTree
from .rays import Rays
from .solid import SolidSign

METHODS = ("exact", "pysdf", "trimesh", "mesh_to_sdf")
SIGNS = ("filled", "solid")
DEFAULT_METHOD = "exact"
DEFAULT_SIGN = "filled"
# Openings narrower than this count as closed under `filled` (normalized frame: the mesh
# fits the unit sphere). Chosen by measurement on the reference meshes (benchmarks/seal_sweep.py).
DEFAULT_SEAL = 0.1
_SHARED: tuple | None = None  # (content key, GroundTruth): the last one built by GroundTruth.shared


class GroundTruth:
    """Precomputed per mesh (trees, orientation repair, sealed grid); `sdf` is then cheap."""

    def __init__(self, mesh: trimesh.Trimesh, method: str = DEFAULT_METHOD, sign: str = DEFAULT_SIGN, seal: float = DEFAULT_SEAL):
        check_options(method, sign, seal)
        self.mesh, self.method, self.sign, self.seal = mesh, method, sign, float(seal)
        self.seconds = {"prepare": 0.0, "sdf": 0.0}
        self.convention = None
        if method != "exact":
            return
        start = time.perf_counter()
        vertices = np.ascontiguousarray(mesh.vertices, dtype=np.float64)
        faces = np.ascontiguousarray(mesh.faces, dtype=np.int64)
        # One tree serves the closest-face search (the mesh's faces, which come first) and the
        # filled sign's rays (which also see caps over the narrow holes, `holes`).
        capped_vertices, capped_faces = with_narrow_holes_capped(vertices, faces, seal)
        tri = capped_vertices[capped_faces]
        tree = TriangleTree(capped_vertices, capped_faces, degenerate(tri[:, 0], tri[:, 1], tri[:, 2]))
        self.distance = Surface(vertices, faces, tree)
        pad = seal + 0.1
        bounds = DistanceBounds(self.distance, vertices.min(axis=0) - pad, vertices.max(axis=0) + pad)
        filled = FilledSign(self.distance, bounds, seal, Rays(capped_vertices, capped_faces, tree.nodes))
        self.convention = filled if sign == "filled" else SolidSign(self.distance, Rays(vertices, faces), filled)
        self.seconds["prepare"] = time.perf_counter() - start

    @classmethod
    def from_config(cls, mesh: trimesh.Trimesh, sampling: dict) -> GroundTruth:
        """The ground truth a `sampling` config section asks for (method, sign, seal; defaults where absent)."""
        return cls.shared(mesh, sampling.get("method", DEFAULT_METHOD), sampling.get("sign", DEFAULT_SIGN), float(sampling.get("seal", DEFAULT_SEAL)))

    @classmethod
    def shared(cls, mesh: trimesh.Trimesh, method: str = DEFAULT_METHOD, sign: str = DEFAULT_SIGN, seal: float = DEFAULT_SEAL) -> GroundTruth:
        """The ground truth of this mesh's content, built once per process: an object's stages that run
        in one process (object_jobs: chain) share it instead of preparing it again each."""
        global _SHARED
        digest = hashlib.sha256()
        digest.update(np.ascontiguousarray(mesh.vertices, dtype=np.float64).tobytes())
        digest.update(np.ascontiguousarray(mesh.faces, dtype=np.int64).tobytes())
        key = (digest.hexdigest(), method, sign, float(seal))
        if _SHARED is None or _SHARED[0] != key:
            _SHARED = (key, cls(mesh, method, sign, seal))
        return _SHARED[1]

    @property
    def surface(self) -> trimesh.Trimesh:
        """Where near-surface points are drawn: the filled solid's boundary, else the mesh."""
        if isinstance(self.convention, FilledSign):
            return self.convention.boundary_mesh(self.mesh.vertices, self.mesh.faces)
        return self.mesh

    def sdf(self, points: np.ndarray) -> np.ndarray:
        """Signed distance of (N, 3) points, float64, negative inside."""
        start = time.perf_counter()
        points = np.ascontiguousarray(np.asarray(points, dtype=np.float64).reshape(-1, 3))
        if len(points) == 0:
            return np.zeros(0)
        if self.method != "exact":
            out = BACKENDS[self.method](self.mesh, points)
        else:
            order = morton_order(points)  # spatial locality: faster tree queries and ray casts
            ordered = points[order]
            closest = self.distance.closest(ordered)
            if isinstance(self.convention, FilledSign):
                values = self.convention.signed_distance(ordered, closest)
            else:
                values = np.where(self.convention.inside(ordered, closest), -closest.distance, closest.distance)
            out = np.empty(len(points))
            out[order] = values
        self.seconds["sdf"] += time.perf_counter() - start
        return out

    def report(self) -> dict:
        """What the stage log and the Parquet metadata keep about the ground truth."""
        out = {"method": self.method, "sign": self.sign if self.method == "exact" else None, "faces": int(len(self.mesh.faces))}
        if isinstance(self.convention, FilledSign):
            grid = self.convention.grid
            out.update(
                seal=self.seal,
                surface_faces=int(self.convention.boundary_faces.sum()),
                cavities=int(grid.cavities),
                see_through_cavities=int(grid.see_through[1:].sum()),
                grid_step=grid.step,
            )
        elif isinstance(self.convention, SolidSign):
            out.update(seal=self.seal, **self.convention.orientation.report())
        return out  # no timings: the report goes into outputs that must be bit-identical between runs


def check_options(method: str, sign: str, seal: float) -> None:
    if method not in METHODS:
        raise ValueError(f"unknown ground-truth method '{method}' (choose from {', '.join(METHODS)})")
    if sign not in SIGNS:
        raise ValueError(f"unknown sign convention '{sign}' (choose from {', '.join(SIGNS)})")
    if not seal > 0:
        raise ValueError(f"seal must be positive, got {seal}")


def compute_sdf(mesh: trimesh.Trimesh, points: np.ndarray, method: str = DEFAULT_METHOD, sign: str = DEFAULT_SIGN, seal: float = DEFAULT_SEAL) -> np.ndarray:
    """Signed distance of `points` (N, 3) to `mesh`, negative inside (one-off: builds a GroundTruth)."""
    return GroundTruth(mesh, method, sign, seal).sdf(points)


def compute_sdf_guarded(truth: GroundTruth, points: np.ndarray) -> tuple[np.ndarray, dict]:
    """`truth.sdf` plus sanity guards: values that are non-finite or farther than any point
    can be from the mesh are recomputed with the exact method (same sign), else set to NaN.

    Returns the SDF and counts for the stage's log: {"method", "bad", "recomputed", "dropped"}.
    """
    points = np.ascontiguousarray(np.asarray(points, dtype=np.float64).reshape(-1, 3))
    sdf = np.array(truth.sdf(points), dtype=np.float64)
    limit = max_distance(truth.mesh, points)
    bad = implausible(sdf, limit)
    stats = {"method": truth.method, "bad": int(bad.sum()), "recomputed": 0, "dropped": 0}
    if bad.any() and truth.method != DEFAULT_METHOD:
        sdf[bad] = GroundTruth(truth.mesh, DEFAULT_METHOD, truth.sign, truth.seal).sdf(points[bad])
        stats["recomputed"] = int(bad.sum())
        bad = implausible(sdf, limit)
    if bad.any():
        sdf[bad] = np.nan
        stats["dropped"] = int(bad.sum())
    return sdf, stats


def backend_unavailable(method: str) -> str | None:
    """Why `method` cannot run here (missing package), or None if it can."""
    from .backends import backend_unavailable as missing

    if method not in METHODS:
        return f"unknown ground-truth method '{method}' (choose from {', '.join(METHODS)})"
    if method == "exact":
        for module in ("igl",):  # the solid sign's winding number
            try:
                __import__(module)
            except ImportError as exc:
                return f"exact method unavailable: {exc}"
        return None
    return missing(method)
