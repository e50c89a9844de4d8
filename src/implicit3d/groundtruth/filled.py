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
from .rays import Rays, sphere_directions
from .seal_grid import OUTSIDE, UNLINKED, SealGrid
from .threads import map_rows

TRAPPED = -3  # linked to nothing after every rule: inside

LINK_DIRECTIONS = 16
# Rays look for a clear node up to this many seal widths away: enough to leave any opening
# the seal closes, and short rays are cheap.
WALK_SEALS = 3.0
# Probe points sit this far off each face, on both sides.
PROBE_OFFSET = 1e-5
# Batches are split over threads only in parts of at least this many points.
THREAD_BATCH = 20000
# A closest point counts as inside its face when the offset to it is this close to the normal.
FOOT_COSINE = 1.0 - 1e-6


class FilledSign:
    """Inside/outside of the filled solid and the faces that bound it, for one mesh."""

    def __init__(self, surface: Surface, bounds: DistanceBounds, seal: float):
        self.surface = surface
        # Rays see the mesh with its narrow holes capped (see `holes`).
        self.rays = Rays(*with_narrow_holes_capped(surface.vertices, surface.faces, seal))
        self.grid = SealGrid(surface, bounds, self.rays, seal)
        self.directions = sphere_directions(LINK_DIRECTIONS)
        tri = surface.vertices[surface.faces]
        normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
        length = np.linalg.norm(normal, axis=1)
        self.proper = length > 0  # zero-area faces have no sides
        self.normal = np.divide(normal, length[:, None], out=np.zeros_like(normal), where=self.proper[:, None])
        self.center = tri.mean(axis=1)
        self.side_label, self.side_depth = self._label_sides()  # (faces, 2): front, back
        self.boundary_faces = np.any(self.side_label == OUTSIDE, axis=1)
        self._boundary_surface: Surface | None = None

    def inside(self, points: np.ndarray, closest: Closest) -> np.ndarray:
        region = self.link(points, closest)
        return (region == TRAPPED) | self.grid.enclosed(region)

    def link(self, points: np.ndarray, closest: Closest, inherit: bool = True, facing: np.ndarray | None = None) -> np.ndarray:
        """Region id each point is linked to (see the module doc), or TRAPPED.

        `facing`, for points just off a face: the face's normal on their side. Rays into the
        face would hit it at once, so only the fixed directions on the facing side are cast.
        Large batches run in as many threads as the ground truth may use (numpy and Embree
        release the GIL); the result does not depend on the split.
        """
        points = np.asarray(points, dtype=np.float64)

        def run(rows: slice) -> np.ndarray:
            part = Closest(closest.distance[rows], closest.face[rows], closest.point[rows], closest.tied[rows])
            return self._link(points[rows], part, inherit, None if facing is None else facing[rows])

        return np.concatenate(map_rows(run, len(points), THREAD_BATCH))

    def _link(self, points: np.ndarray, closest: Closest, inherit: bool, facing: np.ndarray | None) -> np.ndarray:
        region = self.grid.link(points)
        todo = np.flatnonzero(region == UNLINKED)
        if inherit and len(todo):
            label = self._face_side_label(points[todo], np.where(closest.tied[todo], -1, closest.face[todo]), closest.point[todo])
            region[todo] = label
            todo = todo[label == UNLINKED]
        if len(todo):
            reached = self._walk(points[todo], closest.direction(points)[todo])
            region[todo] = reached
            todo = todo[reached == UNLINKED]
        for direction in self.directions:
            cast = todo if facing is None else todo[facing[todo] @ direction > 0]
            if not len(cast):
                continue
            reached = self._walk(points[cast], np.broadcast_to(direction, (len(cast), 3)))
            region[cast] = reached
            todo = np.setdiff1d(todo, cast[reached != UNLINKED], assume_unique=True)
        region[todo] = TRAPPED
        return region

    def signed_distance(self, points: np.ndarray, closest: Closest) -> np.ndarray:
        """Negative inside; inside points measure their distance to the bounding faces only."""
        inside = self.inside(points, closest)
        distance = closest.distance.copy()
        # An inside point whose closest face bounds the solid already has that distance.
        elsewhere = np.flatnonzero(inside & ~self.boundary_faces[np.maximum(closest.face, 0)])
        if len(elsewhere):
            distance[elsewhere] = self._boundary().distance(points[elsewhere])
        return np.where(inside, -distance, distance)

    def boundary_mesh(self, vertices: np.ndarray, faces: np.ndarray) -> trimesh.Trimesh:
        """The faces that bound the filled solid (where near-surface points are drawn)."""
        return trimesh.Trimesh(vertices, faces[self.boundary_faces], process=False)

    def _boundary(self) -> Surface:
        if self._boundary_surface is None:
            self._boundary_surface = Surface(self.surface.vertices, self.surface.faces[self.boundary_faces])
        return self._boundary_surface

    def _face_side_label(self, points: np.ndarray, face: np.ndarray, foot: np.ndarray) -> np.ndarray:
        """Rule 2: the label of the face side a point lies on, where its foot is inside the
        face and within the clearance of the face's centroid, and it is nearer to the face
        than what the normal meets first on that side (past a thin wall's far side lies
        other space); UNLINKED elsewhere."""
        out = np.full(len(points), UNLINKED, dtype=np.int32)
        found = face >= 0
        found[found] = self.proper[face[found]]
        rows = np.flatnonzero(found)
        f = face[rows]
        offset = points[rows] - foot[rows]
        along = np.einsum("ij,ij->i", offset, self.normal[f])
        length = np.linalg.norm(offset, axis=1)
        centered = np.einsum("ij,ij->i", foot[rows] - self.center[f], foot[rows] - self.center[f]) < self.grid.clearance**2
        side = np.where(along > 0, 0, 1)
        usable = (length > 0) & (np.abs(along) >= FOOT_COSINE * length) & centered & (length < self.side_depth[f, side])
        out[rows[usable]] = self.side_label[f[usable], side[usable]]
        return out

    def _walk(self, origins: np.ndarray, directions: np.ndarray) -> np.ndarray:
        """Region of the first sample linked by the grid along each ray, before it hits the surface."""
        grid = self.grid
        reach = WALK_SEALS * grid.seal
        length = np.minimum(self.rays.first_hit(origins, directions, reach), reach)
        out = np.full(len(origins), UNLINKED, dtype=np.int32)
        # Samples one grid step apart (a sample links within the clearance, two steps), in
        # rounds that grow: most rays link within the first two samples.
        steps = np.arange(1, int(np.ceil(reach / grid.step)) + 1)
        todo = np.arange(len(origins))
        for round_steps in np.split(steps, [2, 6]):
            t = grid.step * round_steps
            live = todo[length[todo] > t[0]]
            if not len(live) or not len(t):
                break
            samples = origins[live, None, :] + t[None, :, None] * directions[live, None, :]
            found = grid.link(samples.reshape(-1, 3)).reshape(len(live), len(t))
            usable = (found != UNLINKED) & (t[None, :] < length[live, None])
            first = np.argmax(usable, axis=1)
            linked = usable[np.arange(len(live)), first]
            out[live[linked]] = found[np.flatnonzero(linked), first[linked]]
            todo = live[~linked]
        return out

    def _label_sides(self) -> tuple[np.ndarray, np.ndarray]:
        """Region of a probe just off each face's centroid, front and back (or TRAPPED), and
        how far the normal goes on that side before it meets a surface."""
        labels = np.full((len(self.center), 2), UNLINKED, dtype=np.int32)
        depth = np.zeros((len(self.center), 2))
        index = np.flatnonzero(self.proper)
        for column, side in ((0, 1.0), (1, -1.0)):
            facing = side * self.normal[index]
            probes = self.center[index] + PROBE_OFFSET * facing
            closest = Closest(np.full(len(index), PROBE_OFFSET), index, self.center[index], np.zeros(len(index), dtype=bool))
            labels[index, column] = self.link(probes, closest, inherit=False, facing=facing)
            depth[index, column] = PROBE_OFFSET + self.rays.first_hit(probes, facing)
        return labels, depth
