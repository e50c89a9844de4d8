"""Synthetic meshes for the ground-truth tests, built in code, in the pipeline's normalized
scale (inside the unit sphere), with the inside known analytically."""

from __future__ import annotations

import numpy as np
import trimesh


def box(extents, center=(0.0, 0.0, 0.0)) -> trimesh.Trimesh:
    mesh = trimesh.creation.box(extents=extents)
    mesh.apply_translation(center)
    return mesh


def inward(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    return trimesh.Trimesh(mesh.vertices, mesh.faces[:, ::-1], process=False)


def in_box(points: np.ndarray, extents, center=(0.0, 0.0, 0.0), margin: float = 0.0) -> np.ndarray:
    """Points inside the box shrunk by `margin` (a negative margin grows it)."""
    half = np.asarray(extents) / 2.0 - margin
    return np.all(np.abs(points - np.asarray(center)) < half, axis=1)


def soup(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """Every triangle with vertices of its own (nothing shared)."""
    return trimesh.Trimesh(mesh.triangles.reshape(-1, 3), np.arange(3 * len(mesh.faces)).reshape(-1, 3), process=False)


def flip_some(mesh: trimesh.Trimesh, share: float, rng: np.random.Generator) -> trimesh.Trimesh:
    flip = rng.random(len(mesh.faces)) < share
    return trimesh.Trimesh(mesh.vertices, np.where(flip[:, None], mesh.faces[:, ::-1], mesh.faces), process=False)


def punch_holes(mesh: trimesh.Trimesh, share: float, rng: np.random.Generator) -> trimesh.Trimesh:
    """Remove a random share of the faces: holes of one triangle each, as collections lose them."""
    keep = rng.random(len(mesh.faces)) >= share
    return trimesh.Trimesh(mesh.vertices, mesh.faces[keep], process=False)


def voxel_solid(occupied: np.ndarray, pitch: float, origin) -> trimesh.Trimesh:
    """The closed surface around a boolean voxel array (marching cubes), outward."""
    from skimage import measure

    padded = np.pad(occupied.astype(np.float32), 1)
    vertices, faces, _, _ = measure.marching_cubes(padded, 0.5)
    mesh = trimesh.Trimesh((vertices - 1.0) * pitch + np.asarray(origin), faces, process=False)
    if mesh.volume < 0:
        mesh.invert()
    return mesh


def cup(outer: float = 0.5, inner: float = 0.4, height: float = 0.8, floor: float = 0.1, sections: int = 48) -> trimesh.Trimesh:
    """A thick-walled cup open at the top: a closed surface of revolution around z."""
    bottom, top = -height / 2.0, height / 2.0
    profile = np.array([[0.0, bottom], [outer, bottom], [outer, top], [inner, top], [inner, bottom + floor], [0.0, bottom + floor]])
    mesh = trimesh.creation.revolve(profile, sections=sections)
    mesh.merge_vertices()
    if mesh.volume < 0:
        mesh.invert()
    return mesh


def quad_beam(extents, center, gap: float, rng: np.random.Generator, flip_share: float = 0.5) -> trimesh.Trimesh:
    """A box made of six separate two-triangle quads: no shared vertices, each quad shrunk by
    `gap` at its edges (hairline cracks along every edge), each flipped at random."""
    quads = []
    half = np.asarray(extents) / 2.0
    for axis in range(3):
        u, v = [k for k in range(3) if k != axis]
        for side in (-1.0, 1.0):
            corners = np.zeros((4, 3))
            for i, (su, sv) in enumerate(((-1, -1), (1, -1), (1, 1), (-1, 1))):
                corners[i, axis] = side * half[axis]
                corners[i, u] = su * (half[u] - gap)
                corners[i, v] = sv * (half[v] - gap)
            faces = np.array([[0, 1, 2], [0, 2, 3]])
            if rng.random() < flip_share:
                faces = faces[:, ::-1]
            quads.append(trimesh.Trimesh(corners + np.asarray(center), faces, process=False))
    return trimesh.util.concatenate(quads)


CHAIR_BEAMS = [  # (extents, center): four legs, a seat, a back
    ((0.1, 0.7, 0.1), (-0.35, -0.45, -0.3)),
    ((0.1, 0.7, 0.1), (0.35, -0.45, -0.3)),
    ((0.1, 0.7, 0.1), (-0.35, -0.45, 0.3)),
    ((0.1, 0.7, 0.1), (0.35, -0.45, 0.3)),
    ((0.9, 0.12, 0.8), (0.0, -0.04, 0.0)),
    ((0.9, 0.7, 0.1), (0.0, 0.4, 0.35)),
]


def quad_chair(rng: np.random.Generator, gap: float = 0.002) -> trimesh.Trimesh:
    return trimesh.util.concatenate([quad_beam(e, c, gap, rng) for e, c in CHAIR_BEAMS])


def in_chair(points: np.ndarray, margin: float = 0.0) -> np.ndarray:
    return np.any([in_box(points, e, c, margin) for e, c in CHAIR_BEAMS], axis=0)


def gear(teeth: int = 24, hub: float = 0.45, tip: float = 0.75, width: float = 0.04, thickness: float = 0.3) -> trimesh.Trimesh:
    """A hub cylinder with many thin box teeth overlapping it (several bodies, self-overlap)."""
    parts = [trimesh.creation.cylinder(radius=hub, height=thickness, sections=96)]
    length = tip - hub + 0.05
    for k in range(teeth):
        tooth = box((length, width, thickness * 0.8), ((hub + tip) / 2.0 - 0.025, 0.0, 0.0))
        tooth.apply_transform(trimesh.transformations.rotation_matrix(2 * np.pi * k / teeth, (0, 0, 1)))
        parts.append(tooth)
    return trimesh.util.concatenate(parts)


def in_gear(points: np.ndarray, teeth: int = 24, hub: float = 0.45, tip: float = 0.75, width: float = 0.04, thickness: float = 0.3) -> np.ndarray:
    radius = np.linalg.norm(points[:, :2], axis=1)
    inside = (radius < hub) & (np.abs(points[:, 2]) < thickness / 2.0)
    angle = np.arctan2(points[:, 1], points[:, 0])
    for k in range(teeth):
        a = angle - 2 * np.pi * k / teeth
        along = radius * np.cos(a)
        across = radius * np.sin(a)
        inside |= (along > hub - 0.05) & (along < tip) & (np.abs(across) < width / 2.0) & (np.abs(points[:, 2]) < thickness * 0.4)
    return inside


def near_and_volume(mesh: trimesh.Trimesh, count: int, seed: int = 0, std: float = 0.01) -> tuple[np.ndarray, int]:
    """Half surface samples plus N(0, std) noise (as the pipeline's near-surface points), half
    uniform in the unit ball; returns the points and how many are near-surface."""
    rng = np.random.default_rng(seed)
    surface, _ = trimesh.sample.sample_surface(mesh, count // 2, seed=seed)
    near = surface + rng.normal(0.0, std, size=surface.shape)
    direction = rng.normal(size=(count - count // 2, 3))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    volume = direction * rng.random((len(direction), 1)) ** (1.0 / 3.0)
    return np.vstack([near, volume]), len(near)
