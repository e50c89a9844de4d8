"""The mesh files a run keeps (normalized meshes, reconstructions): binary PLY compressed with xz.

Lossless: `xz -dk mesh.ply.xz` gives the PLY that trimesh writes, byte for byte, and reading
either gives the same vertices and faces. A path without the `.xz` suffix is read as a plain PLY
(the meshes of runs made before) and written in the format its suffix names (`implicit3d mesh -o`).
"""

from __future__ import annotations

import io
import lzma
import os
from pathlib import Path

import numpy as np
import trimesh

from .errors import MeshError, first_line
from .formats import MESH_SUFFIX
from .io import atomic_path

__all__ = ["MESH_SUFFIX", "XZ_PRESET", "is_compressed", "kept_mesh", "mesh_bytes", "read_mesh", "write_mesh"]

XZ_PRESET = 0  # 0 (fastest) to 9 (smallest); benchmarks/storage.py weighs bytes against seconds
OTHER_FORMATS = (".obj", ".stl", ".off")  # a plain path with one of these suffixes is written in that format


def is_compressed(path: str | os.PathLike) -> bool:
    return os.fspath(path).lower().endswith(".xz")


def mesh_bytes(mesh: trimesh.Trimesh | None, file_type: str = "ply") -> bytes:
    """`mesh` as a file (binary PLY by default); None, an empty level set, as one with no vertices or faces."""
    if mesh is None:
        mesh = trimesh.Trimesh(np.zeros((0, 3)), np.zeros((0, 3), dtype=np.int64), process=False)
    data = mesh.export(file_type=file_type)
    return data.encode() if isinstance(data, str) else data


def write_mesh(path: str | os.PathLike, mesh: trimesh.Trimesh | None, preset: int = XZ_PRESET) -> None:
    """Write `mesh` atomically: xz-compressed binary PLY where `path` ends in .xz; else by its
    suffix, .obj, .stl or .off, and binary PLY for any other."""
    suffix = Path(path).suffix.lower()
    data = mesh_bytes(mesh, suffix[1:] if suffix in OTHER_FORMATS else "ply")
    if is_compressed(path):
        data = lzma.compress(data, format=lzma.FORMAT_XZ, preset=preset)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def read_mesh(path: str | os.PathLike) -> trimesh.Trimesh:
    """A mesh as `write_mesh` stored it (or any PLY), exactly: no vertex merged, none reordered.
    A missing, corrupt or truncated file raises MeshError naming it."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise MeshError(f"{path}: file not found") from None
    except OSError as exc:
        raise MeshError(f"{path}: cannot be read ({first_line(exc)})") from None
    if is_compressed(path):
        try:
            data = lzma.decompress(data, format=lzma.FORMAT_XZ)
        except (lzma.LZMAError, EOFError) as exc:
            raise MeshError(f"{path}: not a complete xz file, it is corrupt or truncated ({first_line(exc)})") from None
    try:
        return trimesh.load(io.BytesIO(data), file_type="ply", process=False, force="mesh")
    except Exception as exc:  # trimesh raises many types on corrupt input
        raise MeshError(f"{path}: cannot be parsed as PLY, the file is corrupt or truncated ({first_line(exc)})") from None


def kept_mesh(folder: str | os.PathLike, name: str) -> Path:
    """The mesh file `name` in a run's `folder`: `name.ply.xz`, or the plain `name.ply` that runs
    kept before meshes were compressed (the .ply.xz path when neither exists, for the error)."""
    compressed, plain = Path(folder) / f"{name}{MESH_SUFFIX}", Path(folder) / f"{name}.ply"
    return plain if plain.is_file() and not compressed.is_file() else compressed
