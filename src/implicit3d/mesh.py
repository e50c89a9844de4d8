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

from .errors import MeshError

MESH_EXTENSIONS = (".obj", ".ply", ".stl", ".off", ".glb", ".gltf")


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
    def from_dict(cls, data: dict) -> "Transform":
        return cls(center=tuple(float(c) for c in data["center"]), scale=float(data["scale"]))


def load_mesh(path: str | os.PathLike, max_faces: int | None = None) -> trimesh.Trimesh:
    """Load any trimesh-readable file as one triangle mesh, or raise MeshError naming the problem."""
    path = Path(path)
    if path.suffix.lower() not in MESH_EXTENSIONS:
        raise MeshError(f"{path}: unknown mesh format '{path.suffix}' (expected one of {', '.join(MESH_EXTENSIONS)})")
    if not path.is_file():
        raise MeshError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise MeshError(f"{path}: empty file")
    try:
        loaded = trimesh.load(path, process=False)
    except Exception as exc:  # trimesh raises many types on corrupt input
        raise MeshError(f"{path}: cannot be parsed ({type(exc).__name__}: {_first_line(exc)})") from None
    if isinstance(loaded, trimesh.Scene):
        meshes = [g for g in loaded.dump() if isinstance(g, trimesh.Trimesh)] if loaded.geometry else []
        loaded = trimesh.util.concatenate(meshes) if meshes else None
    if not isinstance(loaded, trimesh.Trimesh) or len(loaded.faces) == 0:
        kind = type(loaded).__name__ if loaded is not None else "nothing"
        raise MeshError(f"{path}: no triangle faces (loaded {kind}; point clouds and lines are not surfaces)")
    vertices = np.asarray(loaded.vertices, dtype=np.float64)
    if not np.isfinite(vertices).all():
        raise MeshError(f"{path}: {int((~np.isfinite(vertices)).any(axis=1).sum())} vertices are NaN or infinite")
    if max_faces is not None and len(loaded.faces) > max_faces:
        raise MeshError(f"{path}: {len(loaded.faces)} faces exceed the limit of {max_faces} (raise normalize.max_faces)")
    return loaded


def clean_mesh(mesh: trimesh.Trimesh, path: str | os.PathLike = "<mesh>") -> trimesh.Trimesh:
    """Merge duplicate vertices, drop degenerate and duplicate faces and unused vertices."""
    mesh = trimesh.Trimesh(vertices=mesh.vertices, faces=mesh.faces, process=False)
    mesh.merge_vertices()
    mesh.update_faces(mesh.nondegenerate_faces())
    mesh.update_faces(mesh.unique_faces())
    mesh.remove_unreferenced_vertices()
    if len(mesh.faces) == 0:
        raise MeshError(f"{path}: every face is degenerate (zero area)")
    extent = mesh.vertices.max(axis=0) - mesh.vertices.min(axis=0)
    if np.sort(extent)[1] <= 1e-12 * max(float(extent.max()), 1e-300):
        raise MeshError(f"{path}: zero extent (all vertices lie on a line or a point)")
    if float(mesh.area) <= 0.0:
        raise MeshError(f"{path}: zero surface area")
    return mesh


def normalize_mesh(mesh: trimesh.Trimesh) -> tuple[trimesh.Trimesh, Transform]:
    """Center the bounding box at the origin and scale into the unit sphere."""
    vertices = np.asarray(mesh.vertices, dtype=np.float64)
    center = (vertices.max(axis=0) + vertices.min(axis=0)) / 2.0
    scale = float(np.linalg.norm(vertices - center, axis=1).max())
    transform = Transform(center=tuple(float(c) for c in center), scale=scale)
    normalized = trimesh.Trimesh(transform.to_normalized(vertices), mesh.faces.copy(), process=False)
    return normalized, transform


def load_normalized(path: str | os.PathLike) -> trimesh.Trimesh:
    """Load a mesh written by the normalize stage, exactly as stored."""
    return trimesh.load(path, process=False, force="mesh")


def mesh_digest(mesh: trimesh.Trimesh) -> str:
    """Content hash of the geometry, used to key cached samples."""
    import hashlib

    h = hashlib.sha256()
    h.update(np.ascontiguousarray(mesh.vertices, dtype=np.float64).tobytes())
    h.update(np.ascontiguousarray(mesh.faces, dtype=np.int64).tobytes())
    return h.hexdigest()[:16]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else "no details"
