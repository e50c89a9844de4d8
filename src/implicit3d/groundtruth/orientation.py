"""Orientation repair: every part of the mesh faces the way it is seen from outside.

The winding number needs outward-facing triangles, yet collections mix orientations:
parts flipped as a whole, single flipped faces, parts made of separate two-triangle
pieces pointing both ways. The repair works per *patch*, a set of faces joined through
manifold edges (vertices merged by position):

1. Within a patch, faces are flipped to agree with their neighbours (a spanning tree
   carries the flips), keeping the patch's majority.
2. Each face is seen from outside by rays (as in Takayama et al., "A simple method for
   correcting facet orientations in polygon meshes based on ray casting", JCGT 2014):
   rays leave probe points just off both of its sides, and the side from which clearly
   more rays escape to infinity should be its front. Four candidates follow: whole
   patches turn by the area-weighted vote of their faces; every clearly seen face turns
   by its own vote (the rest by their patch's); the faces stay as given but for those
   clearly seen the other way round; or all stay as given. The first keeps a patch's own
   consistency; the second fixes patches whose manifold edges join parts the wrong way
   (a chair whose faces point both ways); the last two keep a good mesh whose many
   holes mislead steps 1 and 2. The one kept is the one whose winding number is closest
   to an integer at sample points: a right orientation gives a w of clean 0s and 1s, a
   wrong one fractions.
3. A closed patch seen from neither side (enclosed by other parts) is a cavity wall or a
   part inside a cavity. Its nesting depth decides: the other parts' winding number at
   the patch is the number of shells around it, and a patch inside an odd number of
   shells faces inward (it bounds a cavity), inside an even number outward.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .rays import Rays, sphere_directions
from .winding import geometric_ids

# Probe faces per patch for the nesting depth at most (drawn by area), and the probes' offset.
PATCH_PROBES = 32
PROBE_OFFSET = 1e-5
# Fixed directions; each side of a probe uses the half in its hemisphere.
VIEW_DIRECTIONS = 32
# A face decides its own facing when at least this many rays escape in all and one side
# has at least this share more of them than the other.
DECISIVE_RAYS = 2
DECISIVE_SHARE = 0.5
# Sample points for judging a repair by its winding number, and what counts as fractional.
JUDGE_POINTS = 256
FRACTIONAL = 0.25


@dataclass
class Orientation:
    faces: np.ndarray  # the repaired faces (same vertices)
    patches: int
    flipped_faces: int  # faces whose orientation the repair changed
    enclosed_patches: int  # patches seen from neither side, oriented by nesting depth

    def report(self) -> dict:
        return {"patches": self.patches, "flipped_faces": self.flipped_faces, "enclosed_patches": self.enclosed_patches}


def orient(vertices: np.ndarray, faces: np.ndarray, rays: Rays) -> Orientation:
    """Re-orient `faces` so that each faces the side it is seen from (see the module doc)."""
    vertices = np.asarray(vertices, dtype=np.float64)
    faces = np.asarray(faces, dtype=np.int64)
    if len(faces) == 0:
        return Orientation(faces.copy(), 0, 0, 0)
    patch, flips = _consistent_flips(geometric_ids(vertices)[1][faces])
    patches = int(patch.max()) + 1
    consistent = np.where(flips[:, None], faces[:, ::-1], faces)
    front, back, area = _face_escapes(vertices, consistent, rays)
    total = front + back
    decisive = (total >= DECISIVE_RAYS) & (np.abs(front - back) >= DECISIVE_SHARE * total)
    wants = back > front
    weight = np.bincount(patch[decisive], weights=area[decisive], minlength=patches)
    votes = np.bincount(patch[decisive], weights=area[decisive] * wants[decisive], minlength=patches)
    by_patch = (votes > 0.5 * weight)[patch]
    # Candidate repairs, as flips of the faces given: whole patches, faces on their own, the
    # faces as given but for those clearly seen the other way round, and the faces as given.
    keep = np.zeros(len(faces), dtype=bool)
    candidates = [flips ^ by_patch, flips ^ np.where(decisive, wants, by_patch), np.where(decisive, flips ^ wants, False), keep]
    if all(np.array_equal(c, candidates[0]) for c in candidates[1:]):
        turn = candidates[0]
    else:
        judge = _judge_points(vertices, faces, area)
        fractional = [_fractional(vertices, np.where(c[:, None], faces[:, ::-1], faces), judge) for c in candidates]
        turn = candidates[int(np.argmin(fractional))]
    faces_now = np.where(turn[:, None], faces[:, ::-1], faces)
    enclosed = np.bincount(patch, weights=total, minlength=patches) == 0
    turn_enclosed = _nesting_turns(vertices, faces_now, patch, patches, enclosed)
    faces_now = np.where(turn_enclosed[patch][:, None], faces_now[:, ::-1], faces_now)
    changed = int(np.sum(np.any(faces_now != faces, axis=1)))
    return Orientation(faces_now, patches, changed, int(enclosed.sum()))


def _face_escapes(vertices, faces, rays: Rays) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per face: rays escaping to infinity from just off its front and its back, and its area."""
    tri = vertices[faces]
    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    length = np.linalg.norm(normal, axis=1)
    proper = np.flatnonzero(length > 0)
    unit = normal[proper] / length[proper, None]
    center = tri[proper].mean(axis=1)
    front = np.zeros(len(faces))
    back = np.zeros(len(faces))
    for direction in sphere_directions(VIEW_DIRECTIONS):
        side = np.where(unit @ direction >= 0, 1.0, -1.0)
        free = rays.escapes(center + (side * PROBE_OFFSET)[:, None] * unit, direction)
        front[proper] += free & (side > 0)
        back[proper] += free & (side < 0)
    return front, back, 0.5 * length


def _judge_points(vertices, faces, area) -> np.ndarray:
    """Half near the surface (off the faces by a little), half in the bounding box; fixed seed."""
    rng = np.random.default_rng(0)
    tri = vertices[faces]
    pick = rng.choice(len(faces), JUDGE_POINTS // 2, p=area / area.sum())
    a, b = rng.random((2, len(pick), 1))
    flip = (a + b) > 1
    a, b = np.where(flip, 1 - a, a), np.where(flip, 1 - b, b)
    on = tri[pick, 0] + a * (tri[pick, 1] - tri[pick, 0]) + b * (tri[pick, 2] - tri[pick, 0])
    lo, hi = vertices.min(axis=0), vertices.max(axis=0)
    scale = float(np.linalg.norm(hi - lo))
    near = on + rng.normal(0.0, 0.01 * scale, on.shape)
    return np.ascontiguousarray(np.vstack([near, lo + rng.random((JUDGE_POINTS - len(near), 3)) * (hi - lo)]))


def _fractional(vertices, faces, points) -> float:
    """Share of points whose winding number is not close to an integer (exact winding
    number: for a few hundred points cheaper than building a tree per candidate)."""
    import igl

    w = igl.winding_number(np.ascontiguousarray(vertices, dtype=np.float64), np.ascontiguousarray(faces, dtype=np.int64), points)
    return float(np.mean(np.abs(w - np.rint(w)) > FRACTIONAL))


def _probe_faces(vertices, faces, patch, patches) -> np.ndarray:
    """Up to PATCH_PROBES faces per patch, drawn by area with a fixed seed (zero-area faces never)."""
    tri = vertices[faces]
    area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    # A random key per face scaled by area (Efraimidis-Spirakis): the largest keys per patch
    # are a weighted sample without replacement.
    rng = np.random.default_rng(0)
    key = np.full(len(faces), -np.inf)
    proper = area > 0
    key[proper] = np.log(rng.random(int(proper.sum()))) / area[proper]
    order = np.lexsort((-key, patch))
    rank = np.arange(len(order)) - np.searchsorted(patch[order], patch[order])
    chosen = order[(rank < PATCH_PROBES) & np.isfinite(key[order])]
    return np.sort(chosen)


def _nesting_turns(vertices, faces, patch, patches, enclosed) -> np.ndarray:
    """Per patch: turn it? Only closed enclosed patches whose facing contradicts their nesting depth."""
    turn = np.zeros(patches, dtype=bool)
    if not enclosed.any():
        return turn
    import igl

    tri = vertices[faces]
    volume = np.bincount(patch, weights=np.einsum("ij,ij->i", tri[:, 0], np.cross(tri[:, 1], tri[:, 2])) / 6.0, minlength=patches)
    closed = _closed_patches(geometric_ids(vertices)[1][faces], patch, patches)
    candidates = np.flatnonzero(enclosed & closed & (volume != 0))
    if not len(candidates):
        return turn
    probe = _probe_faces(vertices, faces, patch, patches)
    probe = probe[np.isin(patch[probe], candidates)]
    tri = vertices[faces[probe]]
    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    normal /= np.linalg.norm(normal, axis=1, keepdims=True)
    center = tri.mean(axis=1)
    bvh = igl.FastWindingNumberBVH()
    bvh.init(np.ascontiguousarray(vertices), np.ascontiguousarray(faces), 2)
    points = np.ascontiguousarray(np.vstack([center + PROBE_OFFSET * normal, center - PROBE_OFFSET * normal]))
    w = bvh.winding_number(points, 2.0)
    # Across its own surface a patch's winding number steps by one; the mean of both sides is
    # the others' winding number plus +1/2 for an outward closed patch, -1/2 for an inward one.
    outward = volume > 0
    others = 0.5 * (w[: len(probe)] + w[len(probe) :]) - np.where(outward[patch[probe]], 0.5, -0.5)
    depth = np.rint(np.bincount(patch[probe], weights=others, minlength=patches) / np.maximum(np.bincount(patch[probe], minlength=patches), 1))
    should_face_out = depth.astype(np.int64) % 2 == 0
    turn[candidates] = outward[candidates] != should_face_out[candidates]
    return turn


def _closed_patches(faces, patch, patches) -> np.ndarray:
    """Per patch: is every edge of it matched by one traversed the other way (no boundary)?
    `faces` index vertices merged by position, as the patches do."""
    directed = faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2)
    owner = np.repeat(patch, 3)
    sign = np.where(directed[:, 0] < directed[:, 1], 1, -1)
    _, inverse = np.unique(np.column_stack([owner, np.sort(directed, axis=1)]), axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    net = np.bincount(inverse, weights=sign)
    closed = np.ones(patches, dtype=bool)
    closed[np.unique(owner[net[inverse] != 0])] = False
    return closed


def _consistent_flips(faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Body label per face, and which faces to flip so that manifold neighbours agree.

    Across an edge shared by exactly two faces, the faces agree if they traverse it in
    opposite directions. The flip parity of a face is the XOR of the disagreements on
    its path to the root of a breadth-first spanning tree; each body keeps its
    majority orientation.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import breadth_first_order, connected_components

    n = len(faces)
    a, b, disagree = _manifold_face_pairs(faces)
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    _, body = connected_components(graph, directed=False)
    # One BFS for all bodies: a virtual root (index n) linked to one face per body.
    roots = _first_per_label(body)
    rows = np.concatenate([a, np.full(len(roots), n)])
    cols = np.concatenate([b, roots])
    tree_graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n + 1, n + 1)).tocsr()
    _, parent = breadth_first_order(tree_graph, n, directed=False, return_predecessors=True)
    parent = parent[:n]
    parity_lookup = coo_matrix((disagree.astype(np.int8) + 1, (a, b)), shape=(n, n)).tocsr()
    parity_lookup = parity_lookup.maximum(parity_lookup.T)
    is_root = parent == n
    parity = np.zeros(n, dtype=bool)
    child = np.flatnonzero(~is_root)
    parity[child] = np.asarray(parity_lookup[child, parent[child]]).ravel() == 2
    ancestor = np.where(is_root, np.arange(n), parent)
    while True:  # pointer jumping: parity becomes the XOR along the whole path to the root
        jump = ancestor[ancestor]
        if (jump == ancestor).all():
            break
        parity = parity ^ parity[ancestor]
        ancestor = jump
    flipped_per_body = np.bincount(body, weights=parity, minlength=len(roots))
    majority_flipped = flipped_per_body * 2 > np.bincount(body, minlength=len(roots))
    return body, parity ^ majority_flipped[body]


def _manifold_face_pairs(faces: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Face pairs sharing an edge used by exactly two faces, and whether they disagree."""
    directed = faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2)
    owner = np.repeat(np.arange(len(faces)), 3)
    key = np.sort(directed, axis=1)
    forward = directed[:, 0] < directed[:, 1]
    order = np.lexsort((key[:, 1], key[:, 0]))
    key, forward, owner = key[order], forward[order], owner[order]
    same = np.zeros(len(key) + 1, dtype=bool)
    same[1:-1] = (key[1:] == key[:-1]).all(axis=1)
    # i starts a pair when key[i] == key[i+1] but key[i-1] != key[i] and key[i+1] != key[i+2].
    pair = same[1:] & ~same[:-1] & ~np.append(same[2:], False)
    i = np.flatnonzero(pair)
    a, b = owner[i], owner[i + 1]
    disagree = forward[i] == forward[i + 1]
    # Two faces sharing two edges: keep one pair, or the parity lookup would add them up.
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    _, keep = np.unique(np.stack([lo, hi], axis=1), axis=0, return_index=True)
    keep = keep[lo[keep] != hi[keep]]
    return a[keep], b[keep], disagree[keep]


def _first_per_label(labels: np.ndarray) -> np.ndarray:
    _, first = np.unique(labels, return_index=True)
    return first
