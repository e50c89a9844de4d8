"""The `filled` sign's links, compiled (numba): each point's region by the rules of `filled`,
one point at a time, in one pass.

Rule 1 (a clear node's free ball) is `grid_region`; rule 2 (the face side a point lies on) is
`_face_side`, over the point's tie set (`_tie_side`); rule 3 casts rays: along each, the first
sample that rule 1 links is used unless the segment to it is blocked, which one any-hit ray query
decides (`rays.first_hit`). Rule 4 (trapped) is what is left. The arithmetic is that of the
vectorized rules it replaced, in the same order, so the regions are the same except for tied
points and where a float32 hit distance of Embree and the float64 one here fall on different
sides of a sample.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .nearest import _on_triangle
from .rays import BLOCKERS, first_hit, ray_scratch

# Region ids (as `seal_grid`): the far outside, no link; and `filled`'s trapped (inside).
OUTSIDE = 0
UNLINKED = -2
TRAPPED = -3
# A closest point counts as inside its face when the offset to it is this close to the normal.
FOOT_COSINE = 1.0 - 1e-6


@njit(cache=True, nogil=True, inline="always")
def grid_region(x, y, z, params, table):
    """Rule 1: the region of the clear node tried for the point (the nearest clear node to its
    nearest node) when the point lies in that node's free ball; UNLINKED otherwise; OUTSIDE beyond
    the grid. params: (lo x, y, z, step, shape i, j, k, strides i, j, clearance squared); `table`
    packed per node by `SealGrid._prepare_links`."""
    lo_x, lo_y, lo_z, step, n_i, n_j, n_k, stride_i, stride_j, clearance2 = params
    i = np.int64(np.rint((x - lo_x) / step))
    j = np.int64(np.rint((y - lo_y) / step))
    k = np.int64(np.rint((z - lo_z) / step))
    if i < 0 or j < 0 or k < 0 or i >= n_i or j >= n_j or k >= n_k:
        return OUTSIDE
    code = table[i * stride_i + j * stride_j + k]
    region = (code & 0xFFFFFFFF) + UNLINKED
    if region != UNLINKED and not (code >> 44) & 1:
        # The clear node's position, as lo + index * step.
        gx = x - (np.float64(i + ((code >> 32) & 15) - 8) * step + lo_x)
        gy = y - (np.float64(j + ((code >> 36) & 15) - 8) * step + lo_y)
        gz = z - (np.float64(k + ((code >> 40) & 15) - 8) * step + lo_z)
        if gx * gx + gy * gy + gz * gz >= clearance2:
            return UNLINKED
    return region


@njit(cache=True, nogil=True)
def grid_regions(points, params, table, out):
    for n in range(points.shape[0]):
        out[n] = grid_region(points[n, 0], points[n, 1], points[n, 2], params, table)


@njit(cache=True, nogil=True)
def link_points(points, ties, tie_count, foot, facing, away_hit, inherit, grid, sides, tree, walk, out):
    """Region of every point (rules 1-4 of `filled`).

    ties, tie_count: each point's tie set (`nearest`); foot: its closest point. facing (n, 3):
    for probes just off a face, the face's normal on their side: their first ray goes along it,
    and only the fixed directions on that side are cast (all zeros: every direction). away_hit
    (n,), or empty when not known: the distance along each point's first ray to the first face it
    hits (inf: none), which then decides whether a sample on it is reached without a ray query
    (reached exactly when it lies before that hit). inherit: use rule 2.
    grid: `SealGrid.kernel`. sides: (normal, center, proper, side_label, side_depth, vertices,
    faces, flat) of the faces, tree: `Rays.tree`. walk: (directions, step, reach, samples): the
    fixed directions, the spacing of the samples along a ray, how far a ray looks, and how many
    samples that is. The tuples are taken apart here, once: the helpers get their arrays one by one."""
    params, table = grid
    normal, center, proper, side_label, side_depth, vertices, faces, flat = sides
    t_vertices, t_faces, box, child, first, count, leaf_face, _ = tree
    directions, step, reach, samples = walk
    stack, entry, tested = ray_scratch()
    blockers = np.full((directions.shape[0] + 1, BLOCKERS), -1, np.int64)  # per direction; the last row: away rays
    clearance2 = params[9]
    known = away_hit.shape[0] > 0
    for n in range(points.shape[0]):
        x, y, z = points[n, 0], points[n, 1], points[n, 2]
        region = grid_region(x, y, z, params, table)
        if region == UNLINKED and inherit:
            region = _tie_side(x, y, z, ties[n], tie_count[n], foot[n, 0], foot[n, 1], foot[n, 2], normal, center, proper, side_label, side_depth, clearance2, vertices, faces, flat)
        for d in range(-1, directions.shape[0]):  # away from the closest surface point, then the fixed directions
            if region != UNLINKED:
                break
            if d < 0 and (facing[n, 0] != 0 or facing[n, 1] != 0 or facing[n, 2] != 0):
                dx, dy, dz = facing[n, 0], facing[n, 1], facing[n, 2]
            elif d < 0:
                ox, oy, oz = x - foot[n, 0], y - foot[n, 1], z - foot[n, 2]
                length = np.sqrt(ox * ox + oy * oy + oz * oz)
                if not length > 0:
                    continue
                dx, dy, dz = ox / length, oy / length, oz / length
            else:
                dx, dy, dz = directions[d, 0], directions[d, 1], directions[d, 2]
                if facing[n, 0] * dx + facing[n, 1] * dy + facing[n, 2] * dz <= 0 and (facing[n, 0] != 0 or facing[n, 1] != 0 or facing[n, 2] != 0):
                    continue
            # The first sample along the ray that rule 1 links, if the ray reaches it before it
            # hits the surface (nothing hit up to and including it) and within its reach.
            for k in range(1, samples + 1):
                t = step * k
                if t >= reach:
                    break
                sample = grid_region(x + t * dx, y + t * dy, z + t * dz, params, table)
                if sample != UNLINKED:
                    if d < 0 and known:
                        reached = t < away_hit[n]
                    else:
                        reached = first_hit(x, y, z, dx, dy, dz, t, t_vertices, t_faces, box, child, first, count, leaf_face, stack, entry, tested, blockers[d]) == np.inf
                    if reached:
                        region = sample
                    break
        out[n] = TRAPPED if region == UNLINKED else region


@njit(cache=True, nogil=True)
def _tie_side(x, y, z, ties, count, fx, fy, fz, normal, center, proper, side_label, side_depth, clearance2, vertices, faces, flat):
    """Rule 2 over the tie set: the label when rule 2 holds on every face of it and they agree;
    UNLINKED otherwise. Overlapping walls (a box's top covered by a sheet that overhangs it) can
    hold rule 2 on one face while the path along it crosses the other part, or lead to
    different places; a set too large to know (a vertex of many faces) never holds it anyway."""
    if count == 1:
        return _face_side(x, y, z, ties[0], fx, fy, fz, normal, center, proper, side_label, side_depth, clearance2)
    label = UNLINKED
    for k in range(max(count, 0)):
        qx, qy, qz = _on_triangle(x, y, z, vertices, faces, flat, ties[k])  # each face's own foot
        side = _face_side(x, y, z, ties[k], qx, qy, qz, normal, center, proper, side_label, side_depth, clearance2)
        if side == UNLINKED or (k > 0 and side != label):
            return UNLINKED
        label = side
    return label


@njit(cache=True, nogil=True, inline="always")
def _face_side(x, y, z, f, fx, fy, fz, normal, center, proper, side_label, side_depth, clearance2):
    """Rule 2: the label of the side of face f the point lies on, where its foot (fx, fy, fz) is
    inside the face (the offset is along the normal), within the clearance of the face's centre,
    and the point is nearer to the face than what the normal meets first on that side."""
    if f < 0 or not proper[f]:
        return UNLINKED
    ox, oy, oz = x - fx, y - fy, z - fz
    along = ox * normal[f, 0] + oy * normal[f, 1] + oz * normal[f, 2]
    length = np.sqrt(ox * ox + oy * oy + oz * oz)
    cx, cy, cz = fx - center[f, 0], fy - center[f, 1], fz - center[f, 2]
    side = 0 if along > 0 else 1
    if length > 0 and abs(along) >= FOOT_COSINE * length and cx * cx + cy * cy + cz * cz < clearance2 and length < side_depth[f, side]:
        return side_label[f, side]
    return UNLINKED
