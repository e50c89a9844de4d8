"""The `filled` sign: inside is what the outside cannot reach.

A point is inside when it cannot reach the far outside along a path that crosses no
surface, counting openings narrower than the seal as closed (the SealGrid's cavities),
unless it sees the outside: a space sealed only by narrow openings but seen from
outside (between the spokes of a wheel) stays outside.

Each point is linked to a region of the grid by a path that provably crosses no surface:
1. a point within the clearance of a clear node lies in that node's free ball;
2. a point whose closest surface point lies inside a face, near the face's centroid,
   takes the label of that side of the face (below), unless another face is as close (a
   tie: overlapping or duplicated faces; which one a search returns is arbitrary);
3. otherwise rays are cast from the point: first straight away from its closest surface
   point, then in 16 fixed directions. Along each ray, up to its first hit, the first
   sample linked by rule 1 links the point;
4. a point no ray links is *trapped*: in thin material, or in a gap narrower than the
   seal that no ray sees out of. It is inside.

Each side of each face is labelled once, by linking a probe point just off its centroid
(rules 1, 3, 4). A point near a face reaches that probe by moving to the face and along
it, so it shares the label (rule 2), unless another part touches the face in between.

The faces that bound the filled solid are those with an outside side. Walls that face
only a cavity or other material are not part of it: inside points take their distance
from the bounding faces alone, and near-surface samples are drawn on them.
"""

from __future__ import annotations

import numpy as np
import trimesh

from .distance import Closest, DistanceBounds, Surface
from .holes import with_narrow_holes_capped
from .linking import OUTSIDE, TRAPPED, UNLINKED, link_points
from .morton import morton_order
from .rays import Rays, sphere_directions
from .seal_grid import SealGrid
from .threads import map_rows

LINK_DIRECTIONS = 16
# Rays look for a clear node up to this many seal widths away: enough to leave any opening
# the seal closes, and short rays are cheap.
WALK_SEALS = 3.0
# Probe points sit this far off each face, on both sides.
PROBE_OFFSET = 1e-5
# Batches are split over threads only in parts of at least this many points (a thread costs far
# less than linking them: the probes of a mesh of 10,000 faces are worth two), and into this many
# chunks per thread, taken in turn: points in thin parts cost many rays, and they cluster.
THREAD_BATCH = 4000
CHUNKS_PER_THREAD = 8


class FilledSign:
    """Inside/outside of the filled solid and the faces that bound it, for one mesh."""

    def __init__(self, surface: Surface, bounds: DistanceBounds, seal: float, rays: Rays | None = None):
        """`rays`: on the mesh with its narrow holes capped (`holes`), made here when not given."""
        self.surface = surface
        self.rays = rays if rays is not None else Rays(*with_narrow_holes_capped(surface.vertices, surface.faces, seal))
        self.grid = SealGrid(surface, bounds, self.rays, seal)
        self.directions = sphere_directions(LINK_DIRECTIONS)
        reach = WALK_SEALS * self.grid.seal
        # What `linking.link_points` walks: directions, sample spacing, reach, samples per ray.
        self._walk = (self.directions, self.grid.step, reach, int(np.ceil(reach / self.grid.step)))
        tri = surface.vertices[surface.faces]
        normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
        length = np.linalg.norm(normal, axis=1)
        self.proper = length > 0  # zero-area faces have no sides
        self.normal = np.divide(normal, length[:, None], out=np.zeros_like(normal), where=self.proper[:, None])
        self.center = tri.mean(axis=1)
        self.side_label, self.side_depth = self._label_sides()  # (faces, 2): front, back
        self.boundary_faces = np.any(self.side_label == OUTSIDE, axis=1)

    def inside(self, points: np.ndarray, closest: Closest) -> np.ndarray:
        region = self.link(points, closest)
        return (region == TRAPPED) | self.grid.enclosed(region)

    def link(self, points: np.ndarray, closest: Closest, inherit: bool = True, facing: np.ndarray | None = None, away_hit: np.ndarray | None = None) -> np.ndarray:
        """Region id each point is linked to (see the module doc), or TRAPPED.

        `facing`, for points just off a face: the face's normal on their side. The first ray goes
        along it; rays into the face would hit it at once, so only the fixed directions on the
        facing side are cast. `away_hit`, with `facing`: how far along it the first hit lies.
        Large batches run in as many threads as the ground truth may use (the compiled links
        release the GIL); the result does not depend on the split.
        """
        points = np.ascontiguousarray(np.asarray(points, dtype=np.float64).reshape(-1, 3))
        ties, tie_count = np.ascontiguousarray(closest.ties), np.ascontiguousarray(closest.tie_count)
        foot = np.ascontiguousarray(closest.point, dtype=np.float64)
        facing = np.zeros_like(points) if facing is None else np.ascontiguousarray(facing, dtype=np.float64)
        away_hit = np.zeros(0) if away_hit is None else np.ascontiguousarray(away_hit, dtype=np.float64)
        labels, depth = (self.side_label, self.side_depth) if inherit else self._unlabelled
        mesh = self.surface
        sides = (self.normal, self.center, self.proper, labels, depth, mesh.vertices, mesh.faces, mesh.flat)
        out = np.empty(len(points), dtype=np.int32)

        def run(rows: slice) -> None:
            hits = away_hit[rows] if len(away_hit) else away_hit
            link_points(points[rows], ties[rows], tie_count[rows], foot[rows], facing[rows], hits, inherit, self.grid.kernel, sides, self.rays.tree, self._walk, out[rows])

        if len(points):
            map_rows(run, len(points), THREAD_BATCH, CHUNKS_PER_THREAD)
        return out

    def signed_distance(self, points: np.ndarray, closest: Closest) -> np.ndarray:
        """Negative inside; inside points measure their distance to the bounding faces only."""
        inside = self.inside(points, closest)
        distance = closest.distance.copy()
        # An inside point whose closest face bounds the solid already has that distance.
        elsewhere = np.flatnonzero(inside & ~self.boundary_faces[np.maximum(closest.face, 0)])
        if len(elsewhere):
            distance[elsewhere] = self.surface.distance(points[elsewhere], among=self.boundary_faces)
        return np.where(inside, -distance, distance)

    def boundary_mesh(self, vertices: np.ndarray, faces: np.ndarray) -> trimesh.Trimesh:
        """The faces that bound the filled solid (where near-surface points are drawn)."""
        return trimesh.Trimesh(vertices, faces[self.boundary_faces], process=False)

    @property
    def _unlabelled(self) -> tuple[np.ndarray, np.ndarray]:
        """Side labels and depths while the sides are being labelled (rule 2 is not used then)."""
        faces = len(self.surface.faces)
        return np.full((faces, 2), UNLINKED, dtype=np.int32), np.zeros((faces, 2))

    def _label_sides(self) -> tuple[np.ndarray, np.ndarray]:
        """Region of a probe just off each face's centroid, front and back (or TRAPPED), and
        how far the normal goes on that side before it meets a surface. The probes go in Morton
        order of the centroids: neighbours in turn are faster to link (the answers do not change)."""
        labels = np.full((len(self.center), 2), UNLINKED, dtype=np.int32)
        depth = np.zeros((len(self.center), 2))
        index = np.flatnonzero(self.proper)
        index = index[morton_order(self.center[index])]
        for column, side in ((0, 1.0), (1, -1.0)):
            facing = side * self.normal[index]
            probes = self.center[index] + PROBE_OFFSET * facing
            closest = Closest.on_faces(index, self.center[index], PROBE_OFFSET)
            hit = self.rays.first_hit(probes, facing)  # how far the normal goes: the first ray's whole way
            labels[index, column] = self.link(probes, closest, inherit=False, facing=facing, away_hit=hit)
            depth[index, column] = PROBE_OFFSET + hit
        return labels, depth
