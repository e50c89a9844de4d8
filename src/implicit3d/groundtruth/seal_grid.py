"""The space around a mesh as a grid of nodes, flood-filled from outside with openings sealed.

A node is *clear* when no surface lies within `seal / 2` of it. Two neighbouring clear
nodes are joined by a segment that crosses no surface (its length, the grid step, is
below twice the clearance), so clear nodes connected through the grid are connected in
space. The clear nodes connected to the grid's border form the outside; every other
component of clear nodes is a *cavity*: space cut off from the outside except through
openings narrower than about the seal (between `seal` and `seal` + 1.8 grid steps).

A cavity that is seen from outside is see-through, not enclosed: it counts as outside.
That is when at least a quarter of the rays from its nodes (64 sampled nodes, 16 fixed
directions each) escape to infinity: the space between the spokes of a wheel, not a
cabinet behind a keyhole or a shell with a few missing triangles.
"""

from __future__ import annotations

import numpy as np

from .distance import DistanceBounds, Surface
from .linking import UNLINKED, grid_regions
from .rays import Rays, sphere_directions

# Grid steps per seal width: finer steps make the sealed width sharper but cost their cube.
STEPS_PER_SEAL = 4
# Largest grid (nodes); beyond it the step grows, as long as it stays below seal / 2.
MAX_NODES = 1 << 24
# A cavity is see-through when at least this share of the rays from its sampled nodes escape.
SEE_THROUGH_SHARE = 0.25
CAVITY_SAMPLES = 64
VIEW_DIRECTIONS = 16

BLOCKED = -1
# A nearest clear node farther than clearance + link radius + this from a node links no point
# near the node (the slack is far above the rounding of that distance).
LINK_SLACK = 1e-9


class SealGrid:
    """Clear/blocked nodes and their regions: OUTSIDE, BLOCKED, or a cavity id >= 1."""

    def __init__(self, surface: Surface, bounds: DistanceBounds, rays: Rays, seal: float):
        if seal <= 0:
            raise ValueError(f"seal must be positive, got {seal}")
        self.seal = float(seal)
        self.clearance = seal / 2.0
        lo_mesh, hi_mesh = surface.vertices.min(axis=0), surface.vertices.max(axis=0)
        step = seal / STEPS_PER_SEAL
        margin = self.clearance + 2.0 * step
        extent = hi_mesh - lo_mesh + 2.0 * margin
        if np.prod(np.ceil(extent / step) + 1) > MAX_NODES:
            step = float((np.prod(extent) / MAX_NODES) ** (1.0 / 3.0)) * 1.01
            if step * np.sqrt(3.0) / 2.0 >= self.clearance:
                raise ValueError(
                    f"seal {seal:g} is too small for this mesh's grid (at most {MAX_NODES:,} nodes, step {step:.4g}): "
                    f"use a seal above {2.0 * step:.4g}"
                )
            margin = self.clearance + 2.0 * step
        self.step = float(step)
        # A point within this distance of a clear node lies inside the node's free ball.
        self.link_radius = self.step * np.sqrt(3.0) / 2.0
        self.lo = lo_mesh - margin
        self.shape = np.ceil((hi_mesh + margin - self.lo) / self.step).astype(np.int64) + 1
        clear = self._clear_nodes(surface, bounds)
        self.region, self.cavities = _regions(clear)
        self._prepare_links(clear)
        self.see_through = self._see_through(rays)

    def nodes(self, index: np.ndarray) -> np.ndarray:
        return self.lo + np.asarray(index) * self.step

    def link(self, points: np.ndarray) -> np.ndarray:
        """Region of a clear node whose free ball holds the point, or UNLINKED.

        A clear node is farther than the clearance from the surface, so a point within the
        clearance of it is joined to it by a segment that crosses no surface. The node
        tried is the clear node nearest to the point's nearest node. Points beyond the
        grid (which holds the mesh with a margin) are OUTSIDE. (`linking.grid_region`.)
        """
        points = np.ascontiguousarray(np.asarray(points, dtype=np.float64).reshape(-1, 3))
        out = np.empty(len(points), dtype=np.int32)
        grid_regions(points, *self.kernel, out)
        return out

    def _prepare_links(self, clear: np.ndarray) -> None:
        """Per node, what `linking.grid_region` reads, packed in one int64 (one memory access per
        query): the region of the nearest clear node, that node's offset in steps, and whether
        every point nearest to this node is surely within the clearance of it. A node whose
        nearest clear node is too far for any point near it to link gets UNLINKED outright: only
        offsets of at most three steps remain."""
        self._strides = np.array([self.shape[1] * self.shape[2], self.shape[2], 1], dtype=np.int64)
        nearest = _nearest_clear(clear)
        has = nearest >= 0
        region = np.full(clear.size, UNLINKED, dtype=np.int64)
        region[has] = self.region.ravel()[nearest[has]]
        own = np.stack(np.unravel_index(np.arange(clear.size), clear.shape), axis=1)
        offset = np.stack(np.unravel_index(np.where(has, nearest, 0), clear.shape), axis=1) - own
        reach = np.linalg.norm(offset * self.step, axis=1)
        sure = has & (reach + self.link_radius < self.clearance)
        region[reach > self.clearance + self.link_radius + LINK_SLACK] = UNLINKED
        offset[region == UNLINKED] = 0
        if np.abs(offset).max(initial=0) > 7:
            raise AssertionError("seal grid: a linking offset beyond three steps")  # by the bound above
        code = region - UNLINKED  # >= 0
        for axis in range(3):
            code |= (offset[:, axis] + 8) << (32 + 4 * axis)
        lo, shape, strides = (float(v) for v in self.lo), (int(v) for v in self.shape), (int(v) for v in self._strides[:2])
        self.kernel = ((*lo, self.step, *shape, *strides, self.clearance**2), code | (sure.astype(np.int64) << 44))

    def enclosed(self, region: np.ndarray) -> np.ndarray:
        """Whether a region id is an enclosed cavity (not OUTSIDE, not see-through)."""
        region = np.asarray(region)
        out = region >= 1
        out[out] = ~self.see_through[region[out]]
        return out

    def _clear_nodes(self, surface: Surface, bounds: DistanceBounds) -> np.ndarray:
        """Nodes with no surface within the clearance. Only nodes the coarse bounds cannot
        clear are queried, each with a search radius of just the clearance."""
        axes = [self.lo[k] + self.step * np.arange(self.shape[k]) for k in range(3)]
        # Lower bound per node from its nearest coarse node: separable along the axes.
        coarse = [np.clip(np.rint((axes[k] - bounds.lo[k]) / bounds.step).astype(np.int64), 0, bounds.shape[k] - 1) for k in range(3)]
        offset = [axes[k] - (bounds.lo[k] + coarse[k] * bounds.step) for k in range(3)]
        near = np.empty(tuple(self.shape), dtype=bool)
        for i in range(self.shape[0]):  # one slab at a time keeps the temporaries small
            value = bounds.values[coarse[0][i]][np.ix_(coarse[1], coarse[2])]
            gap = np.sqrt(offset[0][i] ** 2 + offset[1][:, None] ** 2 + offset[2][None, :] ** 2)
            near[i] = value - gap <= self.clearance
        clear = ~near
        index = np.argwhere(near)
        if len(index):
            distance = surface.distance(self.nodes(index), self.clearance)
            free = ~(distance <= self.clearance)
            clear[tuple(index[free].T)] = True
        return clear

    def _see_through(self, rays: Rays) -> np.ndarray:
        """Per region id: is it a cavity that is seen from outside? (index 0, OUTSIDE, is False)."""
        out = np.zeros(self.cavities + 1, dtype=bool)
        if self.cavities == 0:
            return out
        flat = self.region.ravel()
        members = np.flatnonzero(flat >= 1)
        labels = flat[members]
        order = np.argsort(labels, kind="stable")
        members, labels = members[order], labels[order]
        starts = np.searchsorted(labels, np.arange(1, self.cavities + 1))
        ends = np.searchsorted(labels, np.arange(1, self.cavities + 1), side="right")
        rng = np.random.default_rng(0)
        picks, owner = [], []
        for cavity, (a, b) in enumerate(zip(starts, ends, strict=True), start=1):
            chosen = members[a:b] if b - a <= CAVITY_SAMPLES else members[a:b][rng.choice(b - a, CAVITY_SAMPLES, replace=False)]
            picks.append(chosen)
            owner.append(np.full(len(chosen), cavity))
        picks, owner = np.concatenate(picks), np.concatenate(owner)
        origins = self.nodes(np.stack(np.unravel_index(picks, tuple(self.shape)), axis=1))
        escaping = np.zeros(len(origins))
        for direction in sphere_directions(VIEW_DIRECTIONS):
            escaping += rays.escapes(origins, direction)
        rays_cast = np.maximum(np.bincount(owner, minlength=self.cavities + 1), 1) * VIEW_DIRECTIONS
        share = np.bincount(owner, weights=escaping, minlength=self.cavities + 1) / rays_cast
        out[1:] = share[1:] >= SEE_THROUGH_SHARE
        return out


def _regions(clear: np.ndarray) -> tuple[np.ndarray, int]:
    """Label the clear nodes: OUTSIDE for components touching the border, 1..n for cavities."""
    from scipy import ndimage

    labels, count = ndimage.label(clear)  # 6-connectivity: neighbours one step apart
    border = np.unique(np.concatenate([face.ravel() for face in _border_faces(labels)]))
    is_outside = np.zeros(count + 1, dtype=bool)
    is_outside[border] = True
    cavity_id = np.zeros(count + 1, dtype=np.int32)
    cavities = np.flatnonzero(~is_outside[1:]) + 1
    cavity_id[cavities] = np.arange(1, len(cavities) + 1)
    region = np.where(clear, cavity_id[labels], BLOCKED).astype(np.int32)
    return region, len(cavities)


def _nearest_clear(clear: np.ndarray) -> np.ndarray:
    """Per node (flat), the flat index of the nearest clear node (itself when clear); -1 if none is."""
    from scipy import ndimage

    if not clear.any():
        return np.full(clear.size, -1, dtype=np.int64)
    index = ndimage.distance_transform_edt(~clear, return_distances=False, return_indices=True)
    return np.ravel_multi_index(tuple(index.reshape(3, -1)), clear.shape).astype(np.int64)


def _border_faces(array: np.ndarray):
    return (array[0], array[-1], array[:, 0], array[:, -1], array[:, :, 0], array[:, :, -1])
