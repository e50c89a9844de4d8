"""Ray casting against a triangle mesh (Embree through embreex): first-hit distances."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .threads import parts as thread_parts

# Rays are cast in chunks, spread over threads (Embree releases the GIL): chunks bound the
# memory of Embree's per-ray output, and small batches are not worth a thread.
CHUNK = 1 << 18
MIN_PER_THREAD = 4096


class Rays:
    """First-hit queries on one mesh. Origins and directions are in the mesh's frame."""

    def __init__(self, vertices: np.ndarray, faces: np.ndarray):
        from embreex import rtcore_scene
        from embreex.mesh_construction import TriangleMesh

        vertices = np.asarray(vertices, dtype=np.float64)
        # Embree works in float32: shift to the bounding-box corner so coordinates stay small.
        self.origin = vertices.min(axis=0) if len(vertices) else np.zeros(3)
        self.empty = len(faces) == 0
        if not self.empty:
            self._scene = rtcore_scene.EmbreeScene()
            TriangleMesh(
                scene=self._scene,
                vertices=(vertices - self.origin).astype(np.float32),
                indices=np.ascontiguousarray(faces, dtype=np.int32),
            )

    def first_hit(self, origins: np.ndarray, directions: np.ndarray, max_distance: np.ndarray | float | None = None) -> np.ndarray:
        """Distance along each unit direction to the first triangle, inf when none lies within `max_distance`."""
        origins = np.asarray(origins, dtype=np.float64).reshape(-1, 3)
        directions = np.broadcast_to(np.asarray(directions, dtype=np.float64), origins.shape)
        out = np.full(len(origins), np.inf)
        if self.empty or len(origins) == 0:
            return out
        limit = np.broadcast_to(np.float64(1e30) if max_distance is None else np.asarray(max_distance, dtype=np.float64), (len(origins),))
        threads = thread_parts(len(origins), MIN_PER_THREAD)
        size = min(CHUNK, -(-len(origins) // threads))
        parts = [slice(start, start + size) for start in range(0, len(origins), size)]

        def cast(part: slice) -> None:
            found = self._scene.run(
                np.ascontiguousarray(origins[part] - self.origin, dtype=np.float32),
                np.ascontiguousarray(directions[part], dtype=np.float32),
                dists=np.ascontiguousarray(np.minimum(limit[part], 1e30), dtype=np.float32),
                output=1,
            )
            hit = found["geomID"] != -1
            out[part][hit] = found["tfar"][hit]

        if threads == 1:
            for part in parts:
                cast(part)
        else:
            with ThreadPoolExecutor(threads) as pool:
                list(pool.map(cast, parts))
        return out

    def escapes(self, origins: np.ndarray, directions: np.ndarray) -> np.ndarray:
        """Per (origin, direction) pair: does the ray leave without hitting anything?"""
        return np.isinf(self.first_hit(origins, directions))


def sphere_directions(count: int) -> np.ndarray:
    """`count` unit vectors spread evenly over the sphere (spherical Fibonacci lattice), fixed."""
    i = np.arange(count) + 0.5
    polar = np.arccos(1.0 - 2.0 * i / count)
    azimuth = np.pi * (1.0 + 5.0**0.5) * i
    return np.stack([np.cos(azimuth) * np.sin(polar), np.sin(azimuth) * np.sin(polar), np.cos(polar)], axis=1)
