"""Ray casting against a triangle mesh: first-hit distances and occlusion, compiled (numba).

Rays traverse the same kind of bounding-volume hierarchy as the closest-face search (`bvh`),
over the faces split into pieces where they are long, and test the faces themselves with the
watertight ray-triangle test of Woop, Benthin and Wald (2013) in float64: a ray through a
shared edge or vertex hits one of the faces around it, never none. A box is entered when the
ray's interval through it, widened by a rounding margin, is not empty.

Everything is plain IEEE float64 arithmetic without fast-math, so the hits are the same bit
for bit on any x86-64 CPU and instruction set (Embree, used before, picks ISA-specific
float32 kernels whose hit distances differ in the last bits between SSE, AVX2 and AVX-512).
Batches run in as many threads as the ground truth may use (`threads`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .bvh import piece_tree
from .threads import map_rows

# Rays per thread at least: smaller batches are not worth a thread.
MIN_PER_THREAD = 4096
# A box's far intersection is widened by this relative margin (above three roundings, Ize 2013),
# so a ray that touches a face is never culled by the rounding of the box test.
BOX_MARGIN = 1e-15
# Faces a ray remembers having tested (the pieces of a long face lie in neighbouring leaves).
MAILBOX = 8
# Faces that blocked the last segments in one direction, tried first by the next (`first_hit`).
BLOCKERS = 4
# The inverse of a zero direction component (see `first_hit`).
FLAT_INVERSE = 1e300
# Nodes on a ray's stack at most (the trees are at most about 90 levels deep, `bvh`).
STACK = 128


class Rays:
    """First-hit queries on one mesh. Origins and directions are in the mesh's frame."""

    def __init__(self, vertices: np.ndarray, faces: np.ndarray, nodes: tuple[np.ndarray, ...] | None = None):
        """`nodes`: a `bvh.piece_tree` of these very faces, shared instead of built again."""
        self.vertices = np.ascontiguousarray(vertices, dtype=np.float64)
        self.faces = np.ascontiguousarray(faces, dtype=np.int64)
        self.empty = len(self.faces) == 0
        if not self.empty:
            self.tree = (self.vertices, self.faces, *(nodes if nodes is not None else piece_tree(self.vertices, self.faces)))

    def first_hit(self, origins: np.ndarray, directions: np.ndarray, max_distance: np.ndarray | float | None = None) -> np.ndarray:
        """Distance along each unit direction to the first triangle, inf when none lies within `max_distance`."""
        origins = np.ascontiguousarray(np.asarray(origins, dtype=np.float64).reshape(-1, 3))
        directions = np.ascontiguousarray(np.broadcast_to(np.asarray(directions, dtype=np.float64), origins.shape))
        out = np.full(len(origins), np.inf)
        if self.empty or len(origins) == 0:
            return out
        limit = np.ascontiguousarray(np.broadcast_to(np.inf if max_distance is None else np.asarray(max_distance, dtype=np.float64), (len(origins),)))

        def cast(rows: slice) -> None:
            _first_hits(origins[rows], directions[rows], limit[rows], self.tree, out[rows])

        map_rows(cast, len(origins), MIN_PER_THREAD)
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


@njit(cache=True, nogil=True)
def ray_scratch():
    """Per-thread scratch of `first_hit`: node stack, entry distances, faces tested last."""
    return np.empty(STACK, np.int64), np.empty(STACK), np.empty(MAILBOX, np.int64)


@njit(cache=True, nogil=True)
def _first_hits(origins, directions, limit, tree, out):
    vertices, faces, box, child, first, count, leaf_face, _ = tree
    stack, entry, tested = ray_scratch()
    nearest = np.empty(0, np.int64)
    for i in range(origins.shape[0]):
        out[i] = first_hit(
            origins[i, 0], origins[i, 1], origins[i, 2], directions[i, 0], directions[i, 1], directions[i, 2], limit[i],
            vertices, faces, box, child, first, count, leaf_face, stack, entry, tested, nearest,
        )  # fmt: skip


@njit(cache=True, nogil=True)
def first_hit(ox, oy, oz, dx, dy, dz, limit, vertices, faces, box, child, first, count, leaf_face, stack, entry, tested, blockers):
    """Distance to the first face hit within [0, limit] (inf when none; a zero direction hits
    nothing), in the tree `Rays.tree` (its arrays one by one: a tuple of arrays taken apart on
    every call costs more than the query). With `blockers` (faces, -1 for none), the first hit
    found instead of the nearest: enough to know whether the segment is blocked. Those faces are
    tried first and the one that blocks goes in front: the last rays in the same direction from
    nearby points (in Morton order) hit the same walls. That changes the time only. stack,
    entry, tested: `ray_scratch()`, one per thread."""
    any_hit = len(blockers) > 0
    if dx == 0.0 and dy == 0.0 and dz == 0.0:
        return np.inf
    kx, ky, kz, sx, sy, sz = _ray_frame(dx, dy, dz)
    o = (ox, oy, oz)
    # Zero components get a huge finite inverse, not inf: the slab test then needs no branch
    # (an origin inside the slab gets all of it, one outside gets an entry far beyond any limit).
    ix = 1.0 / dx if dx != 0.0 else FLAT_INVERSE
    iy = 1.0 / dy if dy != 0.0 else FLAT_INVERSE
    iz = 1.0 / dz if dz != 0.0 else FLAT_INVERSE
    for k in range(len(blockers)):
        if blockers[k] >= 0:
            hit = _hit_face(o, kx, ky, kz, sx, sy, sz, vertices, faces, blockers[k], limit)
            if hit < np.inf:
                return hit
    best = limit  # a miss is inf: only finite entries and hits count below
    found = False
    seen = 0  # faces tested, the last MAILBOX of them in `tested`
    t = _enter(ox, oy, oz, dx, dy, dz, ix, iy, iz, box, 0, best)
    if t == np.inf:
        return np.inf
    stack[0], entry[0] = 0, t
    top = 1
    while top:
        top -= 1
        if entry[top] > best:
            continue
        node = stack[top]
        left = child[node]
        if left < 0:
            for j in range(first[node], first[node] + count[node]):
                f = leaf_face[j]
                if _seen(tested, min(seen, MAILBOX), f):  # a long face's pieces lie in many leaves: test it once
                    continue
                tested[seen % MAILBOX] = f
                seen += 1
                hit = _hit_face(o, kx, ky, kz, sx, sy, sz, vertices, faces, f, best)
                if hit <= best and hit < np.inf:
                    best, found = hit, True
                    if any_hit:
                        blockers[1:] = blockers[:-1]
                        blockers[0] = f
                        return best
            continue
        t_left = _enter(ox, oy, oz, dx, dy, dz, ix, iy, iz, box, left, best)
        t_right = _enter(ox, oy, oz, dx, dy, dz, ix, iy, iz, box, left + 1, best)
        near, far, t_near, t_far = (left, left + 1, t_left, t_right) if t_left <= t_right else (left + 1, left, t_right, t_left)
        if t_far <= best and t_far < np.inf:  # the nearer child is pushed last: searched first
            stack[top], entry[top] = far, t_far
            top += 1
        if t_near <= best and t_near < np.inf:
            stack[top], entry[top] = near, t_near
            top += 1
    return best if found else np.inf


@njit(cache=True, nogil=True, inline="always")
def _seen(tested, count, f):
    for k in range(count):
        if tested[k] == f:
            return True
    return False


@njit(cache=True, nogil=True, inline="always")
def _ray_frame(dx, dy, dz):
    """Woop et al.'s ray frame: the dominant axis kz, the other two (kx, ky, swapped to keep the
    winding), and the shear that maps the direction onto kz."""
    ax, ay, az = abs(dx), abs(dy), abs(dz)
    kz = 0 if ax >= ay and ax >= az else (1 if ay >= az else 2)
    kx = (kz + 1) % 3
    ky = (kx + 1) % 3
    d = (dx, dy, dz)
    if d[kz] < 0.0:
        kx, ky = ky, kx
    return kx, ky, kz, d[kx] / d[kz], d[ky] / d[kz], 1.0 / d[kz]


@njit(cache=True, nogil=True, inline="always")
def _hit_face(o, kx, ky, kz, sx, sy, sz, vertices, faces, f, limit):
    """Distance along the ray to face f, inf when it misses or lies beyond [0, limit].
    Each corner is sheared on its own, so faces that share an edge compute the same edge
    function for it (with the opposite sign): watertight."""
    a, b, c = faces[f, 0], faces[f, 1], faces[f, 2]
    a_z = vertices[a, kz] - o[kz]
    b_z = vertices[b, kz] - o[kz]
    c_z = vertices[c, kz] - o[kz]
    a_x = (vertices[a, kx] - o[kx]) - sx * a_z
    a_y = (vertices[a, ky] - o[ky]) - sy * a_z
    b_x = (vertices[b, kx] - o[kx]) - sx * b_z
    b_y = (vertices[b, ky] - o[ky]) - sy * b_z
    c_x = (vertices[c, kx] - o[kx]) - sx * c_z
    c_y = (vertices[c, ky] - o[ky]) - sy * c_z
    u = c_x * b_y - c_y * b_x
    v = a_x * c_y - a_y * c_x
    w = b_x * a_y - b_y * a_x
    if (u < 0.0 or v < 0.0 or w < 0.0) and (u > 0.0 or v > 0.0 or w > 0.0):
        return np.inf
    det = u + v + w
    if det == 0.0:
        return np.inf
    t = (u * (sz * a_z) + v * (sz * b_z) + w * (sz * c_z)) / det
    if t < 0.0 or t > limit:
        return np.inf
    return t


@njit(cache=True, nogil=True, inline="always")
def _enter(ox, oy, oz, dx, dy, dz, ix, iy, iz, box, node, limit):
    """Where the ray enters the node's box within [0, limit], inf when it does not."""
    x0, x1 = (box[node, 0] - ox) * ix, (box[node, 3] - ox) * ix
    y0, y1 = (box[node, 1] - oy) * iy, (box[node, 4] - oy) * iy
    z0, z1 = (box[node, 2] - oz) * iz, (box[node, 5] - oz) * iz
    near = max(0.0, min(x0, x1), min(y0, y1), min(z0, z1))
    far = min(limit, max(x0, x1) * (1.0 + BOX_MARGIN), max(y0, y1) * (1.0 + BOX_MARGIN), max(z0, z1) * (1.0 + BOX_MARGIN))
    return near if near <= far else np.inf
