"""Ground-truth signed distance from a mesh, behind one interface.

Every backend returns float64 SDF values, negative inside, in the frame of the
vertices given (the normalized frame in the pipeline).

The default backend, ``winding``, is exact in distance (point-to-triangle, libigl
AABB tree) and takes its sign from the generalized winding number w (inside where
|w| > 1/2, as libigl does), the definition that stays meaningful on open,
multi-body and self-overlapping meshes. It gives the same sign as plain
``igl.signed_distance(..., SIGNED_DISTANCE_TYPE_FAST_WINDING_NUMBER)``
(see :func:`igl_signed_distance`), but exact distances where that one scales them
by |1 - 2|w||, and it evaluates w at far fewer points:

* The open ball of radius d(p) around p contains no surface. Points whose balls
  overlap lie in one connected region of space off the surface.
* Capping every hole with a small cone (one per boundary loop) closes the surface,
  and on a closed surface the winding number is an integer that is constant on
  each such region. Points whose ball touches a cap are left out of the regions.
* So w is evaluated at one representative per region; every other point gets
  ``w = w_closed(region) - w_cap(point)``, where the caps' own winding number is
  cheap (few triangles). Points that are isolated, touch a cap or land near
  w = 1/2 get the winding number evaluated directly.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time

import numpy as np
import trimesh

METHODS = ("winding", "trimesh", "pysdf", "mesh_to_sdf")
DEFAULT_METHOD = "winding"

# Barnes-Hut accuracy of igl's fast winding number; 2.0 is igl's own default (the reference).
REFERENCE_ACCURACY = 2.0
# First pass for directly evaluated points: about 2x cheaper, error <= 0.1 on the reference
# meshes (accuracy 1.0 errs by up to 0.43, too close to the 1/2 threshold).
FAST_ACCURACY = 1.25
# First-pass |w| closer than this to 1/2 are recomputed at the reference accuracy.
REFINE_MARGIN = 0.35
# Region-propagated |w| closer than this to 1/2 are evaluated directly instead.
PROPAGATE_MARGIN = 0.1
# A region's w_closed must lie this close to an integer, or its points are evaluated directly.
INTEGER_TOLERANCE = 0.1
# Balls count as overlapping only if the centers are closer than this fraction of the
# summed radii: a margin for rounding in the distances.
OVERLAP = 0.99
# Neighbours in Morton order tested for overlapping balls (per ordering, two orderings).
NEIGHBOURS = 4
# Regions with at least this many points get a second representative as a cross-check.
CROSS_CHECK_SIZE = 256
# Bodies with fewer faces are not judged for inside-out orientation; probes per judged body.
ORIENTATION_MIN_FACES = 20
ORIENTATION_PROBES = 64
# Triangle edges longer than 1/SPLIT_FRACTION of the bounding-box diagonal are split.
SPLIT_FRACTION = 20.0


def compute_sdf(mesh: trimesh.Trimesh, points: np.ndarray, method: str = DEFAULT_METHOD) -> np.ndarray:
    """Signed distance of `points` (N, 3) to `mesh`, negative inside.

    `winding` runs libigl's queries on all cores (IGL_NUM_THREADS limits them).
    """
    if method not in METHODS:
        raise ValueError(f"unknown ground-truth method '{method}' (choose from {', '.join(METHODS)})")
    points = np.ascontiguousarray(np.asarray(points, dtype=np.float64).reshape(-1, 3))
    if len(points) == 0:
        return np.zeros(0)
    if method == "winding":
        return _winding(mesh, points)
    return _BACKENDS[method](mesh, points)


def compute_sdf_guarded(
    mesh: trimesh.Trimesh, points: np.ndarray, method: str = DEFAULT_METHOD
) -> tuple[np.ndarray, dict]:
    """`compute_sdf` plus sanity guards: values that are non-finite or farther than any
    point can be from the mesh are recomputed with the robust default, else set to NaN.

    Returns the SDF and counts for the stage's log:
    {"method", "bad", "recomputed", "dropped"}.
    """
    points = np.ascontiguousarray(np.asarray(points, dtype=np.float64).reshape(-1, 3))
    sdf = np.array(compute_sdf(mesh, points, method), dtype=np.float64)
    bad = _implausible(sdf, max_distance(mesh, points))
    stats = {"method": method, "bad": int(bad.sum()), "recomputed": 0, "dropped": 0}
    if bad.any() and method != DEFAULT_METHOD:
        sdf[bad] = compute_sdf(mesh, points[bad], DEFAULT_METHOD)
        stats["recomputed"] = int(bad.sum())
        bad = _implausible(sdf, max_distance(mesh, points))
    if bad.any():
        sdf[bad] = np.nan
        stats["dropped"] = int(bad.sum())
    return sdf, stats


def max_distance(mesh: trimesh.Trimesh, points: np.ndarray) -> float:
    """Upper bound on any point-to-mesh distance: the diagonal of their joint bounding box."""
    both = np.vstack([np.asarray(points, dtype=np.float64).reshape(-1, 3), np.asarray(mesh.vertices)])
    return float(np.linalg.norm(both.max(axis=0) - both.min(axis=0)))


def _implausible(sdf: np.ndarray, limit: float) -> np.ndarray:
    # Relative slack so that exact distances equal to the bound are not flagged.
    return ~np.isfinite(sdf) | (np.abs(sdf) > limit * (1.0 + 1e-6) + 1e-12)


def inside_fraction_flag(fraction: float, low: float = 1e-3, high: float = 0.9) -> str | None:
    """A short warning when the share of inside points is implausible, else None.

    Meant for the uniform volume points: none inside means the mesh encloses no
    volume (thin or open shell) or is inverted; almost all inside means the sign is
    broken (or the object fills its bounding sphere).
    """
    if not np.isfinite(fraction):
        return "inside fraction is undefined (no valid points)"
    if fraction <= low:
        return (
            f"only {fraction:.2%} of points inside (<= {low:.2%}): the mesh encloses almost no volume "
            "(thin or open shell) or its orientation is inverted"
        )
    if fraction >= high:
        return f"{fraction:.2%} of points inside (>= {high:.0%}): sign is probably broken"
    return None


def igl_signed_distance(mesh: trimesh.Trimesh, points: np.ndarray) -> np.ndarray:
    """Plain libigl signed distance with fast-winding-number sign (the previous default).

    Its sign is the reference `winding` is checked against; its magnitude is the exact
    distance times |1 - 2|w||, so it shrinks wherever w is not exactly 0 or 1.
    """
    import igl

    vertices, faces = _arrays(mesh)
    points = np.ascontiguousarray(np.asarray(points, dtype=np.float64).reshape(-1, 3))
    sdf, *_ = igl.signed_distance(points, vertices, faces, sign_type=igl.SIGNED_DISTANCE_TYPE_FAST_WINDING_NUMBER)
    return np.asarray(sdf, dtype=np.float64)


def winding_number(mesh: trimesh.Trimesh, points: np.ndarray, accuracy: float = REFERENCE_ACCURACY) -> np.ndarray:
    """Generalized winding number (igl fast winding number): ~1 inside, ~0 outside."""
    import igl

    bvh = igl.FastWindingNumberBVH()
    bvh.init(*_arrays(mesh), 2)
    return bvh.winding_number(np.ascontiguousarray(np.asarray(points, dtype=np.float64).reshape(-1, 3)), accuracy)


# ----------------------------------------------------------------------------------------
# Orientation


def fix_orientation(mesh: trimesh.Trimesh) -> tuple[trimesh.Trimesh, dict]:
    """Make face winding consistent and outward, per connected body.

    The winding-number sign needs outward-facing triangles: an inverted body has
    w = -1 inside (everything reads as outside) and a few flipped faces make w wrong
    next to them. Bodies are connected through manifold edges (vertices merged by
    position). Within a body, the faces that disagree with the majority orientation
    are flipped; a body whose own winding number then says it is inside out (about -1
    inside) is flipped whole.
    Returns the repaired mesh (vertices untouched) and a report:
    {"flipped_faces": faces flipped to agree with their body,
     "inverted_bodies": bodies flipped as a whole, "bodies": number of bodies}.
    """
    vertices = np.asarray(mesh.vertices, dtype=np.float64)
    faces = np.asarray(mesh.faces, dtype=np.int64).copy()
    body, flips = _consistent_flips(_geometric_ids(vertices)[1][faces])
    faces[flips] = faces[flips][:, ::-1]
    inverted = _inverted_bodies(vertices, faces, body)
    flip_body = inverted[body]
    faces[flip_body] = faces[flip_body][:, ::-1]
    report = {
        "flipped_faces": int(flips.sum()),
        "inverted_bodies": int(inverted.sum()),
        "bodies": len(inverted),
    }
    return trimesh.Trimesh(vertices=vertices.copy(), faces=faces, process=False), report


def _geometric_ids(vertices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct vertex positions and, per vertex, its index among them: the topology the
    winding number sees (a triangle soup is as connected as its merged mesh)."""
    unique, ids = np.unique(vertices, axis=0, return_inverse=True)
    return unique, ids.reshape(-1)


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


def _inverted_bodies(vertices: np.ndarray, faces: np.ndarray, body: np.ndarray) -> np.ndarray:
    """Per body: is it clearly inside out?

    Just off a face, on either side, the body's own winding number averages to the
    winding number of the rest of the body at that face: +1/2 on a closed outward body,
    -1/2 on an inverted one, near 0 on an open sheet. Bodies too small to judge (fewer
    than ORIENTATION_MIN_FACES faces) are left as they are.
    """
    import igl

    count = int(body.max()) + 1 if len(body) else 0
    inverted = np.zeros(count, dtype=bool)
    rng = np.random.default_rng(0)
    order = np.argsort(body, kind="stable")
    starts = np.concatenate([[0], np.cumsum(np.bincount(body, minlength=count))])
    for label in np.flatnonzero(np.diff(starts) >= ORIENTATION_MIN_FACES):
        own = faces[order[starts[label] : starts[label + 1]]]
        tri = vertices[own]
        normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
        area = 0.5 * np.linalg.norm(normal, axis=1)
        probe = rng.choice(len(own), size=min(ORIENTATION_PROBES, len(own)), replace=False, p=area / area.sum())
        probe = probe[area[probe] > 0]
        unit = normal[probe] / (2.0 * area[probe, None])
        step = 1e-3 * np.sqrt(area[probe, None])  # well inside the face's own near field
        center = tri[probe].mean(axis=1)
        probes = np.ascontiguousarray(np.vstack([center + step * unit, center - step * unit]))
        w = igl.winding_number(vertices, own, probes)
        inverted[label] = np.mean(w) < -0.25
    return inverted


# ----------------------------------------------------------------------------------------
# Robust default: exact distance, winding-number sign propagated over surface-free regions


def _arrays(mesh: trimesh.Trimesh) -> tuple[np.ndarray, np.ndarray]:
    vertices = np.ascontiguousarray(mesh.vertices, dtype=np.float64)
    faces = np.ascontiguousarray(mesh.faces, dtype=np.int64)
    return vertices, faces


class _Caps:
    """Cone caps over the boundary loops: with them the surface is closed."""

    def __init__(self, vertices: np.ndarray, faces: np.ndarray):
        import igl

        self.vertices, self.faces = _cap_triangles(vertices, faces)
        self.empty = len(self.faces) == 0
        if not self.empty:  # caps over long loops are long fans: split them like the mesh
            self.vertices, self.faces = _split_long_edges(self.vertices, self.faces, _split_length(vertices, faces))
        if not self.empty:
            self.tree = igl.AABB()
            self.tree.init(self.vertices, self.faces)
            self.bvh = igl.FastWindingNumberBVH()
            self.bvh.init(self.vertices, self.faces, 2)

    def distance(self, points: np.ndarray) -> np.ndarray:
        if self.empty:
            return np.full(len(points), np.inf)
        return np.sqrt(self.tree.squared_distance(self.vertices, self.faces, points)[0])

    def winding(self, points: np.ndarray) -> np.ndarray:
        if self.empty or len(points) == 0:
            return np.zeros(len(points))
        return self.bvh.winding_number(np.ascontiguousarray(points), REFERENCE_ACCURACY)


def _cap_triangles(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Triangles (center, v, u) for every boundary half-edge u->v, one center per loop.

    The boundary is the net chain of directed edges (over vertices merged by position),
    so non-manifold edges, duplicated or inconsistently wound faces are all accounted
    for: mesh + caps has no boundary and its winding number is an integer off the surface.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    positions, ids = _geometric_ids(vertices)
    directed = ids[faces][:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2)
    directed = directed[directed[:, 0] != directed[:, 1]]
    key = np.sort(directed, axis=1)
    sign = np.where(directed[:, 0] < directed[:, 1], 1, -1)
    unique, inverse = np.unique(key, axis=0, return_inverse=True)
    net = np.bincount(inverse.reshape(-1), weights=sign, minlength=len(unique)).astype(np.int64)
    keep = net != 0
    if not keep.any():
        return np.zeros((0, 3)), np.zeros((0, 3), dtype=np.int64)
    edges = np.where((net[keep] > 0)[:, None], unique[keep], unique[keep][:, ::-1])
    edges = np.repeat(edges, np.abs(net[keep]), axis=0)
    n = len(positions)
    graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n))
    _, loop = connected_components(graph, directed=False)
    loop = loop[edges[:, 0]]
    # Center of each loop: mean of its edges' start points.
    counts = np.bincount(loop)
    used = np.flatnonzero(counts)
    centers = np.stack([np.bincount(loop, weights=positions[edges[:, 0], k])[used] for k in range(3)], axis=1)
    centers /= counts[used][:, None]
    center_index = np.full(len(counts), -1)
    center_index[used] = n + np.arange(len(used))
    cap_faces = np.stack([center_index[loop], edges[:, 1], edges[:, 0]], axis=1)
    return np.ascontiguousarray(np.vstack([positions, centers])), np.ascontiguousarray(cap_faces, dtype=np.int64)


class _WindingSolver:
    """Per-mesh trees and caps, and the sign logic that uses them."""

    def __init__(self, mesh: trimesh.Trimesh):
        import igl

        vertices, faces = _arrays(mesh)
        self.caps = _Caps(vertices, faces)  # from the original faces: splitting adds no boundary
        # Long thin triangles have huge bounding boxes that defeat both trees (mesh 15 of
        # the reference set: 30x slower); splitting them changes neither distance nor w.
        self.vertices, self.faces = _split_long_edges(vertices, faces, _split_length(vertices, faces))
        self.tree = igl.AABB()
        self.tree.init(self.vertices, self.faces)
        self.bvh = igl.FastWindingNumberBVH()
        self.bvh.init(self.vertices, self.faces, 2)
        self.counts: dict = {}

    def sdf(self, points: np.ndarray) -> np.ndarray:
        """Exact unsigned distance, negated where |w| > 1/2. Fills `counts` (points per path, CPU s per stage)."""
        self.counts = {"direct": 0, "representatives": 0, "propagated": 0}
        points = np.ascontiguousarray(points)
        with self._stage("distance"):
            distance = np.sqrt(self.tree.squared_distance(self.vertices, self.faces, points)[0])
        inside = np.abs(self.winding(points, distance)) > 0.5  # |w|, as igl: inverted bodies count too
        return np.where(inside, -distance, distance)

    def winding(self, points: np.ndarray, distance: np.ndarray) -> np.ndarray:
        """Winding number where it decides the sign (values far from 1/2 are only approximate)."""
        with self._stage("caps"):
            blocked = self.caps.distance(points) <= distance
        with self._stage("regions"):
            region = _regions(points, distance, blocked)
        sizes = np.bincount(region)
        direct = sizes[region] < 2
        w = np.zeros(len(points))
        propagated = ~direct
        if propagated.any():
            with self._stage("representatives"):
                closed, ok = self._closed_winding(points, distance, region, sizes)
            with self._stage("caps"):
                w_cap = self.caps.winding(points[propagated])
            w[propagated] = closed[region[propagated]] - w_cap
            trusted = ok[region[propagated]] & (np.abs(np.abs(w[propagated]) - 0.5) >= PROPAGATE_MARGIN)
            direct[np.flatnonzero(propagated)[~trusted]] = True
        with self._stage("direct"):
            w[direct] = self.direct(points[direct])
        self.counts["direct"] += int(direct.sum())
        self.counts["propagated"] += int((~direct).sum())
        return w

    def _closed_winding(
        self, points: np.ndarray, distance: np.ndarray, region: np.ndarray, sizes: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Integer winding number of mesh + caps per region, from one or two representatives."""
        first, second = _representatives(region, distance, sizes)
        reps = np.ascontiguousarray(points[np.concatenate([first, second])])
        # w_closed is an integer, so the cheap pass suffices unless it lands off one.
        w_cap = self.caps.winding(reps)
        w = self.bvh.winding_number(reps, FAST_ACCURACY) + w_cap
        off = np.abs(w - np.round(w)) >= INTEGER_TOLERANCE
        if off.any():
            w[off] = self.bvh.winding_number(np.ascontiguousarray(reps[off]), REFERENCE_ACCURACY) + w_cap[off]
        self.counts["representatives"] += len(reps)
        closed = np.full(len(sizes), np.nan)
        closed[region[first]] = np.round(w[: len(first)])
        ok = np.zeros(len(sizes), dtype=bool)
        ok[region[first]] = np.abs(w[: len(first)] - closed[region[first]]) < INTEGER_TOLERANCE
        if len(second):
            w2 = w[len(first) :]
            agree = np.abs(w2 - closed[region[second]]) < INTEGER_TOLERANCE
            ok[region[second]] &= agree
        return closed, ok

    @contextlib.contextmanager
    def _stage(self, name: str):
        start = time.process_time()
        try:
            yield
        finally:
            key = f"cpu_{name}"
            self.counts[key] = self.counts.get(key, 0.0) + time.process_time() - start

    def direct(self, points: np.ndarray) -> np.ndarray:
        """Winding number evaluated point by point: a cheap pass, then the reference accuracy near 1/2."""
        if len(points) == 0:
            return np.zeros(0)
        points = np.ascontiguousarray(points)
        w = self.bvh.winding_number(points, FAST_ACCURACY)
        unsure = np.abs(np.abs(w) - 0.5) < REFINE_MARGIN
        if unsure.any():
            w[unsure] = self.bvh.winding_number(np.ascontiguousarray(points[unsure]), REFERENCE_ACCURACY)
        return w


def _split_length(vertices: np.ndarray, faces: np.ndarray) -> float:
    """Longest edge kept whole: 1/20 of the bounding-box diagonal, or twice the median edge
    on coarse meshes (where splitting would only multiply faces)."""
    diagonal = float(np.linalg.norm(vertices.max(axis=0) - vertices.min(axis=0)))
    tri = vertices[faces]
    median_edge = float(np.median(np.linalg.norm(tri[:, 1] - tri[:, 0], axis=1)))
    return max(diagonal / SPLIT_FRACTION, 2.0 * median_edge)


def _split_long_edges(vertices: np.ndarray, faces: np.ndarray, max_edge: float) -> tuple[np.ndarray, np.ndarray]:
    """Bisect the longest edge of every triangle until no edge exceeds `max_edge`.

    The pieces cover exactly the same points with the same orientation, so distances
    and winding numbers are unchanged (T-junctions do not matter to either).
    """
    done, todo = [], faces
    for _ in range(64):  # each pass halves the longest edges; 64 passes is far beyond need
        tri = vertices[todo]
        edge = np.stack([tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 1], tri[:, 0] - tri[:, 2]], axis=1)
        length2 = np.einsum("fij,fij->fi", edge, edge)
        k = length2.argmax(axis=1)
        long = length2[np.arange(len(todo)), k] > max_edge * max_edge
        done.append(todo[~long])
        if not long.any():
            break
        f, k = todo[long], k[long]
        rows = np.arange(len(f))
        a, b, c = f[rows, k], f[rows, (k + 1) % 3], f[rows, (k + 2) % 3]
        mid = len(vertices) + rows
        vertices = np.vstack([vertices, 0.5 * (vertices[a] + vertices[b])])
        todo = np.vstack([np.stack([a, mid, c], axis=1), np.stack([mid, b, c], axis=1)])
    return np.ascontiguousarray(vertices), np.ascontiguousarray(np.vstack(done), dtype=np.int64)


def _regions(points: np.ndarray, distance: np.ndarray, blocked: np.ndarray) -> np.ndarray:
    """Label of the surface-free region each point's ball belongs to (isolated points: own label).

    Edges join points whose open balls overlap; candidates are near neighbours in the
    Morton order the points come in and in a second, shifted Morton order that bridges
    the first one's seams. Missing an edge only costs an extra representative.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(points)
    usable = ~blocked & (distance > 0)
    # Runs of consecutive overlapping points are labelled by a cumulative sum, so the
    # graph search only has to join runs.
    chain = usable[1:] & usable[:-1] & _overlaps(points[1:], points[:-1], distance[1:], distance[:-1])
    run = np.concatenate([[0], np.cumsum(~chain)])
    rows, cols = [], []
    for k in range(2, NEIGHBOURS + 1):
        link = usable[k:] & usable[:-k] & _overlaps(points[k:], points[:-k], distance[k:], distance[:-k])
        idx = np.flatnonzero(link)
        rows.append(run[idx])
        cols.append(run[idx + k])
    order = np.argsort(_morton_codes(_unit(points, shift=0.3183)), kind="stable")
    p, d, u = points[order], distance[order], usable[order]
    for k in range(1, NEIGHBOURS + 1):
        link = u[k:] & u[:-k] & _overlaps(p[k:], p[:-k], d[k:], d[:-k])
        idx = np.flatnonzero(link)
        rows.append(run[order[idx]])
        cols.append(run[order[idx + k]])
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    between = rows != cols
    runs = int(run[-1]) + 1
    graph = coo_matrix((np.ones(int(between.sum())), (rows[between], cols[between])), shape=(runs, runs)).tocsr()
    return connected_components(graph, directed=False)[1][run]


def _overlaps(p: np.ndarray, q: np.ndarray, dp: np.ndarray, dq: np.ndarray) -> np.ndarray:
    gap = p - q
    reach = OVERLAP * (dp + dq)
    return np.einsum("ij,ij->i", gap, gap) < reach * reach


def _representatives(region: np.ndarray, distance: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per multi-point region: the point farthest from the surface (cheapest, best-conditioned w),
    and for large regions a second, random-ish one as a cross-check."""
    order = np.lexsort((-distance, region))
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    multi = np.flatnonzero(sizes >= 2)
    first = order[starts[multi]]
    large = np.flatnonzero(sizes >= CROSS_CHECK_SIZE)
    second = order[starts[large] + sizes[large] // 2]  # median distance: far from the first
    return first, second


def _morton_codes(unit: np.ndarray, bits: int = 16) -> np.ndarray:
    """Z-order codes of points in [0, 1)^3 (values outside are clipped)."""
    q = np.clip((unit * (1 << bits)).astype(np.int64), 0, (1 << bits) - 1).astype(np.uint64)
    return _spread_bits(q[:, 0]) | (_spread_bits(q[:, 1]) << np.uint64(1)) | (_spread_bits(q[:, 2]) << np.uint64(2))


def _spread_bits(x: np.ndarray) -> np.ndarray:
    """Insert two zero bits between the low 21 bits of x (standard bit-twiddling)."""
    for shift, mask in ((32, 0x1F00000000FFFF), (16, 0x1F0000FF0000FF), (8, 0x100F00F00F00F00F),
                        (4, 0x10C30C30C30C30C3), (2, 0x1249249249249249)):
        x = (x | (x << np.uint64(shift))) & np.uint64(mask)
    return x


def _unit(points: np.ndarray, shift: float = 0.0) -> np.ndarray:
    """Points scaled into [0, 1)^3 (with room for a shift), for Morton codes."""
    lo, hi = points.min(axis=0), points.max(axis=0)
    span = float((hi - lo).max()) or 1.0
    return (points - lo) / (span * (1.0 + shift) * (1 + 1e-9)) + shift / (1.0 + shift)


def _morton_order(points: np.ndarray) -> np.ndarray:
    return np.argsort(_morton_codes(_unit(points)), kind="stable")


def _winding(mesh: trimesh.Trimesh, points: np.ndarray) -> np.ndarray:
    solver = _WindingSolver(mesh)
    order = _morton_order(points)  # spatial locality: ~2x faster tree queries
    out = np.empty(len(points))
    out[order] = solver.sdf(points[order])
    _winding.last_counts = dict(solver.counts)
    return out


_winding.last_counts = {}  # points per path and CPU seconds per stage of the last call (benchmark)


# ----------------------------------------------------------------------------------------
# Alternative backends (for comparison; their sign is unreliable on open meshes)


def _trimesh(mesh: trimesh.Trimesh, points: np.ndarray, chunk: int = 1000) -> np.ndarray:
    # trimesh returns positive inside. Small chunks: its closest-point candidates for points far
    # from a large mesh take ~2 GB per 1000 points (20000 at once exhausted 24 GB). Its inside
    # test casts rays in pure Python (~10 ms/point) unless the embreex package is installed.
    out = np.empty(len(points))
    for start in range(0, len(points), chunk):
        out[start : start + chunk] = -trimesh.proximity.signed_distance(mesh, points[start : start + chunk])
    return out


def _pysdf(mesh: trimesh.Trimesh, points: np.ndarray) -> np.ndarray:
    from pysdf import SDF

    vertices = np.ascontiguousarray(mesh.vertices, dtype=np.float32)
    faces = np.ascontiguousarray(mesh.faces, dtype=np.uint32)
    sdf = SDF(vertices, faces)(np.ascontiguousarray(points, dtype=np.float32))
    return -np.asarray(sdf, dtype=np.float64).reshape(-1)  # pysdf: positive inside


def _mesh_to_sdf(mesh: trimesh.Trimesh, points: np.ndarray) -> np.ndarray:
    _prepare_mesh_to_sdf()
    from mesh_to_sdf import mesh_to_sdf

    plain = trimesh.Trimesh(np.asarray(mesh.vertices), np.asarray(mesh.faces), process=False)
    sdf = mesh_to_sdf(
        plain,
        points,
        surface_point_method="scan",
        sign_method="normal",
        scan_count=MESH_TO_SDF_SCANS,
        scan_resolution=MESH_TO_SDF_RESOLUTION,
    )
    return np.asarray(sdf, dtype=np.float64).reshape(-1)  # already negative inside


def _prepare_mesh_to_sdf() -> None:
    """Headless EGL rendering, numpy-2 compatibility and one reused renderer for mesh_to_sdf."""
    if "OpenGL" not in sys.modules:
        os.environ.setdefault("PYOPENGL_PLATFORM", "egl")  # must precede the first OpenGL import
    if not hasattr(np, "infty"):
        np.infty = np.inf  # pyrender 0.1.45 uses np.infty, removed in numpy 2
    import mesh_to_sdf.scan as scan
    import mesh_to_sdf.surface_point_cloud as cloud

    if getattr(scan, "_implicit3d_patched", False):
        return
    scan.render_normal_and_depth_buffers = _render_normal_and_depth
    cloud.KDTree = _ExactKDTree
    scan._implicit3d_patched = True


class _ExactKDTree:
    """Drop-in for sklearn's KDTree in mesh_to_sdf (same exact neighbours): scipy builds
    the tree over its ~5M scan points several times faster and queries on all cores."""

    def __init__(self, points: np.ndarray):
        from scipy.spatial import cKDTree

        self._tree = cKDTree(points)

    def query(self, points: np.ndarray, k: int = 1):
        # k as a list keeps the (n, k) shape sklearn returns, also for k = 1.
        return self._tree.query(points, k=list(range(1, k + 1)), workers=-1)


_RENDERERS: dict = {}


def _render_normal_and_depth(mesh, camera, camera_transform, resolution):
    """mesh_to_sdf's renderer, minus a new EGL context and mesh upload for each of its 100 scans."""
    import pyrender
    from mesh_to_sdf import pyrender_wrapper as wrapper

    renderer = _RENDERERS.get(resolution)
    if renderer is None:
        renderer = pyrender.OffscreenRenderer(resolution, resolution)
        renderer._renderer._program_cache = wrapper.CustomShaderCache()
        _RENDERERS[resolution] = renderer
    cached = _RENDERERS.get("mesh")
    if cached is None or cached[0] is not mesh:
        cached = (mesh, pyrender.Mesh.from_trimesh(mesh, smooth=False))
        _RENDERERS["mesh"] = cached
    scene = pyrender.Scene()
    scene.add(cached[1])
    scene.add(camera, pose=camera_transform)
    wrapper.suppress_multisampling = True
    try:
        return renderer.render(scene, flags=pyrender.RenderFlags.SKIP_CULL_FACES)
    finally:
        wrapper.suppress_multisampling = False


# mesh_to_sdf's own defaults: 100 virtual depth scans of 400 x 400 pixels.
MESH_TO_SDF_SCANS = 100
MESH_TO_SDF_RESOLUTION = 400

_BACKENDS = {"trimesh": _trimesh, "pysdf": _pysdf, "mesh_to_sdf": _mesh_to_sdf}


def backend_unavailable(method: str) -> str | None:
    """Why `method` cannot run here (missing package), or None if it can."""
    if method not in METHODS:
        return f"unknown ground-truth method '{method}' (choose from {', '.join(METHODS)})"
    module = {"winding": "igl", "trimesh": "rtree", "pysdf": "pysdf", "mesh_to_sdf": "mesh_to_sdf"}[method]
    try:
        if method == "mesh_to_sdf":
            _prepare_mesh_to_sdf()
        else:
            __import__(module)
    except Exception as exc:  # ImportError, or OpenGL/EGL failing to load
        return f"{method} backend unavailable: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return None
