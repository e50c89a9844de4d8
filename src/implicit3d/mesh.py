"""Loading, validating, cleaning and normalizing meshes.

Convention (the same as mesh_to_sdf's ``scale_to_unit_sphere``): the bounding-box
center moves to the origin, then coordinates are divided by the largest vertex
distance from it, so the mesh fits the unit sphere and touches it.
``original = normalized * scale + center``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import trimesh

from .errors import MeshError, first_line
from .formats import MESH_EXTENSIONS, MESH_SUFFIX
from .meshfile import is_compressed, read_mesh

FLAT_TOLERANCE = 1e-6  # smallest spread / largest spread below which a mesh counts as flat
# trimesh merges vertices on coordinates * 1e8 cast to int64, which overflows beyond ~9e10.
MAX_COORDINATE = 1e10


@dataclass(frozen=True)
class Transform:
    """Maps normalized coordinates back to the mesh's original frame."""

    center: tuple[float, float, float]
    scale: float

    def to_original(self, points: np.ndarray) -> np.ndarray:
        return np.asarray(points) * self.scale + np.asarray(self.center)

    def to_normalized(self, points: np.ndarray) -> np.ndarray:
        return (np.asarray(points) - np.asarray(self.center)) / self.scale

    def as_dict(self) -> dict:
        return {
            "center": list(self.center),
            "scale": self.scale,
            "convention": "unit_sphere: bbox center to origin, divide by max vertex distance",
        }

    @classmethod
    def from_dict(cls, data: dict) -> Transform:
        return cls(center=tuple(float(c) for c in data["center"]), scale=float(data["scale"]))


def load_mesh(path: str | os.PathLike, max_faces: int | None = None) -> trimesh.Trimesh:
    """Load any trimesh-readable file as one triangle mesh, or raise MeshError naming the problem."""
    path = Path(path)
    compressed = is_compressed(path)  # a mesh a run kept
    if path.suffix.lower() not in MESH_EXTENSIONS and not (compressed and path.name.lower().endswith(MESH_SUFFIX)):
        raise MeshError(f"{path}: unknown mesh format '{path.suffix}' (expected one of {', '.join((*MESH_EXTENSIONS, MESH_SUFFIX))})")
    if not path.is_file():
        raise MeshError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise MeshError(f"{path}: empty file")
    if not os.access(path, os.R_OK):
        raise MeshError(f"{path}: not readable (permission denied)")
    try:
        loaded = read_mesh(path) if compressed else trimesh.load(path, process=False)
    except MeshError:
        raise
    except Exception as exc:  # trimesh raises many types on corrupt input
        raise MeshError(f"{path}: cannot be parsed, the file is corrupt or truncated ({first_line(exc)})") from None
    if isinstance(loaded, trimesh.Scene):
        meshes = [g for g in loaded.dump() if isinstance(g, trimesh.Trimesh)] if loaded.geometry else []
        others = list(loaded.geometry.values())  # points or lines only: reported as such below
        loaded = trimesh.util.concatenate(meshes) if meshes else (others[0] if others else None)
    if loaded is None or (isinstance(loaded, trimesh.Trimesh) and len(loaded.vertices) == 0):
        # trimesh returns empty geometry rather than raising for junk or a cut-off binary STL
        raise MeshError(f"{path}: no geometry found (the file is truncated, corrupt or not a {path.suffix} mesh)")
    if not isinstance(loaded, trimesh.Trimesh) or len(loaded.faces) == 0:
        raise MeshError(f"{path}: no triangle faces (it holds only points or lines; a surface mesh is needed)")
    vertices = np.asarray(loaded.vertices, dtype=np.float64)
    if not np.isfinite(vertices).all():
        raise MeshError(f"{path}: {int((~np.isfinite(vertices)).any(axis=1).sum())} vertices are NaN or infinite")
    largest = float(np.abs(vertices).max()) if len(vertices) else 0.0
    if largest > MAX_COORDINATE:
        raise MeshError(f"{path}: coordinates reach {largest:.3g}, too large to merge vertices reliably (rescale the mesh below {MAX_COORDINATE:g})")
    if max_faces is not None and len(loaded.faces) > max_faces:
        raise MeshError(
            f"{path}: {len(loaded.faces)} faces exceed the limit of {max_faces} "
            "(raise normalize.max_faces, or set normalize.decimate: true to simplify it)"
        )
    return loaded


def clean_mesh(mesh: trimesh.Trimesh, path: str | os.PathLike = "<mesh>") -> trimesh.Trimesh:
    """Merge duplicate vertices, drop degenerate and duplicate faces and unused vertices;
    reject a mesh that encloses no volume; orient a closed surface consistently outward."""
    mesh = trimesh.Trimesh(vertices=mesh.vertices, faces=mesh.faces, process=False)
    mesh.merge_vertices()
    _check_extent(mesh.vertices[np.unique(mesh.faces)], path)  # before degenerate faces go: names a point or line
    mesh.update_faces(mesh.nondegenerate_faces())
    mesh.update_faces(mesh.unique_faces())
    mesh.remove_unreferenced_vertices()
    if len(mesh.faces) == 0:
        raise MeshError(f"{path}: every face is degenerate (zero area)")
    _check_extent(mesh.vertices, path)
    if float(mesh.area) <= 0.0:
        raise MeshError(f"{path}: zero surface area")
    if mesh.is_watertight and (not mesh.is_winding_consistent or mesh.volume < 0):
        # A closed surface has one correct orientation, so repairing it is safe; flipped faces
        # would otherwise cancel in the winding number and put inside points outside.
        trimesh.repair.fix_normals(mesh, multibody=True)
    return mesh


def decimate_mesh(mesh: trimesh.Trimesh, max_faces: int, path: str | os.PathLike = "<mesh>") -> trimesh.Trimesh:
    """Quadric decimation to at most `max_faces` faces (fast-simplification), then cleaned again."""
    from .simplify import SimplifyError, simplify

    try:
        simplified = simplify(mesh, int(max_faces), fallback=False)
    except ImportError:
        raise MeshError(f"{path}: normalize.decimate needs the fast-simplification package (pip install fast-simplification)") from None
    except SimplifyError as exc:
        raise MeshError(f"{path}: {exc}, above normalize.max_faces={max_faces}") from None
    return clean_mesh(simplified, path)


def normalize_mesh(mesh: trimesh.Trimesh) -> tuple[trimesh.Trimesh, Transform]:
    """Center the bounding box at the origin and scale into the unit sphere."""
    vertices = np.asarray(mesh.vertices, dtype=np.float64)
    center = (vertices.max(axis=0) + vertices.min(axis=0)) / 2.0
    scale = float(np.linalg.norm(vertices - center, axis=1).max())
    transform = Transform(center=tuple(float(c) for c in center), scale=scale)
    normalized = trimesh.Trimesh(transform.to_normalized(vertices), mesh.faces.copy(), process=False)
    return normalized, transform


def mesh_digest(mesh: trimesh.Trimesh) -> str:
    """Content hash of the geometry, used to key cached samples."""
    import hashlib

    h = hashlib.sha256()
    h.update(np.ascontiguousarray(mesh.vertices, dtype=np.float64).tobytes())
    h.update(np.ascontiguousarray(mesh.faces, dtype=np.int64).tobytes())
    return h.hexdigest()[:16]


def _check_extent(vertices: np.ndarray, path: str | os.PathLike) -> None:
    flat = _flat_kind(vertices)
    if flat:
        raise MeshError(f"{path}: zero extent: all vertices lie {flat}, so the mesh encloses no volume")


def _flat_kind(vertices: np.ndarray) -> str | None:
    """Where the vertices lie when they span fewer than three dimensions, else None.

    Singular values of the centered vertices measure the spread along the principal axes,
    so a tilted plane counts as flat too, not just an axis-aligned one.
    """
    vertices = np.asarray(vertices, dtype=np.float64)
    spread = np.linalg.svd(vertices - vertices.mean(axis=0), compute_uv=False)
    # float32 files round a tilted plane off by ~1e-7 of its size: anything thinner than
    # FLAT_TOLERANCE of the size is flat for sampling purposes anyway.
    thin = spread <= FLAT_TOLERANCE * spread[0]
    if spread[0] == 0 or thin[1]:
        return "at one point" if spread[0] == 0 else "on one line"
    return "in one plane" if thin[2] else None
