"""A corpus of bad and dirty input meshes, generated on the fly (no binary fixtures).

BAD: name -> (file bytes, a fragment of the one-line error normalize must give).
DIRTY: name -> file bytes of meshes that are messy but valid and must go through.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import trimesh

from implicit3d.formats import MESH_EXTENSIONS

# Small enough to keep the workflow test fast, far above what the good meshes have.
DENSE_FACES = 20480
FACE_LIMIT = 5000

_PLY_HEAD = "ply\nformat ascii 1.0\nelement vertex {nv}\nproperty float x\nproperty float y\nproperty float z\n"


def _box() -> trimesh.Trimesh:
    return trimesh.creation.box(extents=(1.0, 0.6, 0.4))


def _grid_faces() -> np.ndarray:
    # A 4 x 4 vertex grid (row-major), two triangles per cell.
    faces = []
    for i in range(3):
        for j in range(3):
            a = 4 * i + j
            faces += [[a, a + 1, a + 5], [a, a + 5, a + 4]]
    return np.array(faces)


def _plane_obj() -> bytes:
    u, v = np.meshgrid(np.linspace(0, 1, 4), np.linspace(0, 1, 4))
    vertices = np.column_stack([u.ravel(), v.ravel(), np.zeros(16)])
    plane = trimesh.Trimesh(vertices, _grid_faces(), process=False)
    # Tilted: an axis-aligned bounding-box test would miss it.
    plane.apply_transform(trimesh.transformations.rotation_matrix(0.7, [1.0, 2.0, 0.5]))
    return plane.export(file_type="obj").encode()


def _truncated(mesh: trimesh.Trimesh, file_type: str) -> bytes:
    data = mesh.export(file_type=file_type)
    return data[: len(data) // 2]


def _points_ply() -> bytes:
    pts = np.random.default_rng(0).uniform(-1, 1, size=(50, 3))
    return trimesh.PointCloud(pts).export(file_type="ply")


def _no_faces_ply() -> bytes:
    head = _PLY_HEAD.format(nv=3) + "element face 0\nproperty list uchar int vertex_indices\nend_header\n"
    return (head + "0 0 0\n1 0 0\n0 1 0\n").encode()


def _flipped() -> bytes:
    # A closed surface with every third face turned inside out (a box: a sphere would fill
    # the unit sphere after normalization and trip the implausible-inside-fraction flag).
    mesh = _box().subdivide()
    faces = mesh.faces.copy()
    faces[::3] = faces[::3, ::-1]
    return trimesh.Trimesh(mesh.vertices, faces, process=False).export(file_type="obj").encode()


def _duplicate_faces() -> bytes:
    mesh = _box()
    faces = np.vstack([mesh.faces, mesh.faces[:5], mesh.faces[5:8, ::-1]])  # repeated and repeated reversed
    return trimesh.Trimesh(mesh.vertices, faces, process=False).export(file_type="obj").encode()


def _non_manifold() -> bytes:
    # Two boxes sharing one edge (four faces meet there) plus a fin on another edge.
    a = trimesh.creation.box(extents=(1, 1, 1))
    b = trimesh.creation.box(extents=(1, 1, 1))
    b.apply_translation((1.0, 1.0, 0.0))
    both = trimesh.util.concatenate([a, b])
    both.merge_vertices()
    edge = both.vertices[both.faces[0, :2]]
    fin_tip = edge.mean(axis=0) + np.array([0.0, 0.0, 2.0])
    vertices = np.vstack([both.vertices, fin_tip])
    faces = np.vstack([both.faces, [[both.faces[0, 0], both.faces[0, 1], len(vertices) - 1]]])
    return trimesh.Trimesh(vertices, faces, process=False).export(file_type="obj").encode()


BAD: dict[str, tuple[bytes, str]] = {
    "empty.obj": (b"", "empty file"),
    "no_faces.ply": (_no_faces_ply(), "no triangle faces"),
    "truncated.ply": (_truncated(_box(), "ply"), "corrupt or truncated"),
    "truncated_stl.stl": (_truncated(_box(), "stl"), "truncated, corrupt or not a .stl mesh"),
    "notes.xyz": (b"1 2 3\n", "unknown mesh format '.xyz'"),
    "points.ply": (_points_ply(), "no triangle faces"),
    "lines.obj": (b"v 0 0 0\nv 1 0 0\nv 1 1 0\nl 1 2 3\n", "no triangle faces"),
    "nonfinite.obj": (b"v 0 0 0\nv nan 0 0\nv 0 1 0\nv 0 0 inf\nf 1 2 3\nf 1 3 4\n", "2 vertices are NaN or infinite"),
    "plane.obj": (_plane_obj(), "all vertices lie in one plane"),
    "point.obj": (b"v 1 1 1\nv 1 1 1\nv 1 1 1\nf 1 2 3\n", "all vertices lie at one point"),
    "dense.obj": (
        trimesh.creation.icosphere(subdivisions=5).export(file_type="obj").encode(),
        f"{DENSE_FACES} faces exceed the limit of {FACE_LIMIT}",
    ),
}

# The bad files a workflow takes as objects: the others are no mesh files, which a run skips.
OBJECTS_BAD = {name: case for name, case in BAD.items() if Path(name).suffix in MESH_EXTENSIONS}

DIRTY: dict[str, bytes] = {
    "flipped.obj": _flipped(),
    "duplicate_faces.obj": _duplicate_faces(),
    "non_manifold.obj": _non_manifold(),
}


def write_corpus(folder: Path, bad: bool = True, dirty: bool = True) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    cases = {**({k: v[0] for k, v in BAD.items()} if bad else {}), **(DIRTY if dirty else {})}
    for name, data in cases.items():
        (folder / name).write_bytes(data)
