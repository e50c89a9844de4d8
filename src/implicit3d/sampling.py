"""Point sampling with ground-truth SDF for the train, validation and test splits.

Each split draws from its own child of one `SeedSequence`, so the splits are
disjoint random streams and every split is reproducible on its own: the pipeline
stores only the test split (`STORED_SPLITS`) and each train job draws the train
and val splits (`POOL_SPLITS`) afresh, bit-identical, from the mesh and the seed. The stored
points lie on the samples file's lattice, in Z order within each kind (`lattice`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import trimesh
from numba import njit

from . import lattice
from .errors import Implicit3DError
from .groundtruth import DEFAULT_METHOD, DEFAULT_SEAL, DEFAULT_SIGN, GroundTruth, compute_sdf_guarded
from .groundtruth.threads import map_rows
from .mesh import mesh_digest

SPLITS = ("train", "val", "test")
STORED_SPLITS = ("test",)  # the samples file: the held-out points every metric is computed on
POOL_SPLITS = ("train", "val")  # the training pool: drawn in memory by each train job, never stored
VOLUMES = ("sphere", "cube")
KINDS = ("near", "volume")  # near the surface, or uniform in the volume
# Surface points per thread at least when they are placed on their faces (`surface_points`).
PLACE_BATCH = 50000


@dataclass(frozen=True)
class SplitSpec:
    """How many points one split has: near-surface (one count per noise std) and volume."""

    near_count: int
    near_std: tuple[float, ...]
    volume_count: int


@dataclass(frozen=True)
class SamplingSpec:
    train: SplitSpec
    val: SplitSpec
    test: SplitSpec
    volume: str = "sphere"
    method: str = DEFAULT_METHOD
    sign: str = DEFAULT_SIGN
    seal: float = DEFAULT_SEAL
    seed: int = 0
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_config(cls, cfg: dict) -> SamplingSpec:
        def split(c: dict) -> SplitSpec:
            std = c["near_std"]
            std = tuple(float(s) for s in (std if isinstance(std, (list, tuple)) else [std]))
            return SplitSpec(int(c["near_count"]), std, int(c["volume_count"]))

        return cls(
            train=split(cfg["train"]),
            val=split(cfg["val"]),
            test=split(cfg["test"]),
            volume=cfg.get("volume", "sphere"),
            method=cfg.get("method", DEFAULT_METHOD),
            sign=cfg.get("sign", DEFAULT_SIGN),
            seal=float(cfg.get("seal", DEFAULT_SEAL)),
            seed=int(cfg.get("seed", 0)),
        )


def split_rng(seed: int, split: str) -> np.random.Generator:
    """An independent generator per split, derived from one base seed."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(SPLITS.index(split),)))


def sample_volume(rng: np.random.Generator, count: int, volume: str = "sphere") -> np.ndarray:
    """Points uniform in the unit ball or the cube [-1, 1]^3."""
    if volume == "cube":
        return rng.uniform(-1.0, 1.0, size=(count, 3))
    if volume != "sphere":
        raise ValueError(f"unknown volume '{volume}' (choose from {', '.join(VOLUMES)})")
    direction = rng.normal(size=(count, 3))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    radius = rng.random((count, 1)) ** (1.0 / 3.0)  # uniform density in the ball
    return direction * radius


def sample_near_surface(rng: np.random.Generator, mesh: trimesh.Trimesh, count: int, std: float) -> np.ndarray:
    """Area-weighted surface samples plus isotropic Gaussian noise."""
    seed = int(rng.integers(0, 2**31 - 1))
    surface, _ = surface_points(mesh, count, seed)
    return surface + rng.normal(0.0, std, size=surface.shape)


def surface_points(mesh: trimesh.Trimesh, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`count` points uniform on the mesh's surface, from a generator seeded with `seed`, and the face
    each lies on: bit for bit trimesh's `sample.sample_surface(mesh, count, seed=seed)` (trimesh 5),
    so samples drawn before stay valid. Kept here so that a trimesh release cannot move the points;
    the placing is compiled and runs in the ground truth's threads (numpy gathers and sums along
    short axes slowly)."""
    rng = np.random.default_rng(seed)
    weight = np.cumsum(mesh.area_faces)
    targets = rng.random(count) * weight[-1]
    lengths = rng.random((count, 2))
    vertices = np.ascontiguousarray(mesh.vertices, dtype=np.float64)
    corners = np.ascontiguousarray(mesh.faces, dtype=np.int64)
    points, face = np.empty((count, 3)), np.empty(count, dtype=np.int64)

    def place(rows: slice) -> None:
        _place_on_faces(weight, targets[rows], lengths[rows], vertices, corners, points[rows], face[rows])

    map_rows(place, count, PLACE_BATCH)
    return points, face


@njit(cache=True, nogil=True)
def _place_on_faces(weight, targets, lengths, vertices, corners, points, face):
    """Each point's face (the first whose cumulative area reaches its target) and its place there:
    two barycentric lengths, folded back into the triangle when their sum is over one, in
    trimesh's arithmetic and order (no fused multiply-add: the same bits as numpy's)."""
    for i in range(targets.shape[0]):
        f = np.searchsorted(weight, targets[i])
        face[i] = f
        first, second = lengths[i, 0], lengths[i, 1]
        if first + second > 1.0:
            first, second = abs(first - 1.0), abs(second - 1.0)
        a, b, c = corners[f, 0], corners[f, 1], corners[f, 2]
        for d in range(3):
            origin = vertices[a, d]
            points[i, d] = (vertices[b, d] - origin) * first + (vertices[c, d] - origin) * second + origin


def split_points(mesh: trimesh.Trimesh, spec: SplitSpec, rng: np.random.Generator, volume: str) -> pd.DataFrame:
    """Points of one split (without SDF), with their kind and noise std."""
    parts = []
    counts = _spread(spec.near_count, len(spec.near_std))
    for std, n in zip(spec.near_std, counts, strict=True):
        if n:
            parts.append(_frame(sample_near_surface(rng, mesh, n, std), "near", std))
    if spec.volume_count:
        parts.append(_frame(sample_volume(rng, spec.volume_count, volume), "volume", 0.0))
    return pd.concat(parts, ignore_index=True)


def ground_truth(mesh: trimesh.Trimesh, spec: SamplingSpec) -> GroundTruth:
    return GroundTruth.shared(mesh, spec.method, spec.sign, spec.seal)


def sample_all(mesh: trimesh.Trimesh, spec: SamplingSpec, truth: GroundTruth | None = None) -> tuple[pd.DataFrame, dict]:
    """All splits with ground-truth SDF (see `sample_splits`)."""
    return sample_splits(mesh, spec, SPLITS, truth)


def sample_splits(
    mesh: trimesh.Trimesh, spec: SamplingSpec, splits: tuple[str, ...] = SPLITS, truth: GroundTruth | None = None
) -> tuple[pd.DataFrame, dict]:
    """The given splits with ground-truth SDF; rows whose SDF could not be computed are dropped.

    Each split's rows do not depend on which other splits are drawn with it (own random stream,
    per-point exact SDF), so the pool drawn alone equals its rows in `sample_all`.
    Near-surface points are drawn on the ground truth's surface: under the `filled` sign the
    boundary of the filled solid, so walls inside enclosed cavities get none."""
    unknown = sorted(set(splits) - set(SPLITS))
    if unknown or not splits:
        raise ValueError(f"unknown splits {unknown} (choose from {', '.join(SPLITS)})")
    truth = truth or ground_truth(mesh, spec)
    frame = draw_splits(truth.surface, spec, splits)
    points = frame[["x", "y", "z"]].to_numpy(np.float64)
    sdf, stats = compute_sdf_guarded(truth, points)
    stored = frame["split"].isin(STORED_SPLITS).to_numpy()
    values = sdf.astype(np.float32)
    values[stored] = lattice.round_sdf(sdf[stored])
    frame["sdf"] = values
    frame = frame[np.isfinite(frame["sdf"])].reset_index(drop=True)
    for col in ("split", "kind"):
        frame[col] = frame[col].cat.remove_unused_categories()  # the values present, in sorted order
    return frame[["x", "y", "z", "sdf", "split", "kind", "std"]], stats


def draw_splits(surface: trimesh.Trimesh, spec: SamplingSpec, splits: tuple[str, ...]) -> pd.DataFrame:
    """The points of the given splits (without SDF), in order, each from its own random stream;
    near-surface points are drawn on `surface`. The stored splits' points are snapped to the
    samples lattice and put in Z order within each kind and noise std."""
    frames = []
    for split in splits:
        frame = split_points(surface, getattr(spec, split), split_rng(spec.seed, split), spec.volume)
        if split in STORED_SPLITS:
            frame = _on_lattice(frame)
        frame.insert(5, "split", _labels(sorted(SPLITS), split, len(frame)))
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def training_pool(mesh: trimesh.Trimesh, meta: dict, source: str = "mesh") -> tuple[pd.DataFrame, dict]:
    """The train and val splits that go with a samples file, from its metadata `meta` (sampling
    config, mesh digest) and the normalized `mesh`: drawn afresh, bit-identical on every call and
    to those splits' rows in `sample_all`. Returns them and the ground truth's guard counts;
    `source` names the mesh in the error raised when it is not the one the samples were drawn from."""
    digest = mesh_digest(mesh)
    if meta.get("mesh_digest") != digest:
        raise Implicit3DError(f"{source}: not the mesh the samples were drawn from (digest {digest[:12]}, samples file {str(meta.get('mesh_digest'))[:12]})")
    return sample_splits(mesh, SamplingSpec.from_config(meta["sampling"]), POOL_SPLITS)


def _frame(points: np.ndarray, kind: str, std: float) -> pd.DataFrame:
    points = points.astype(np.float32)
    return pd.DataFrame(
        {"x": points[:, 0], "y": points[:, 1], "z": points[:, 2], "kind": _labels(KINDS, kind, len(points)), "std": np.float32(std)}
    )


def _labels(categories, value: str, count: int) -> pd.Categorical:
    """`count` copies of `value` as a categorical of `categories` (sorted): frames of one set of
    categories concatenate without going through strings."""
    return pd.Categorical.from_codes(np.full(count, list(categories).index(value), dtype=np.int8), categories=categories)


def _on_lattice(frame: pd.DataFrame) -> pd.DataFrame:
    points = lattice.snap(frame[["x", "y", "z"]].to_numpy())
    frame = frame.assign(x=points[:, 0], y=points[:, 1], z=points[:, 2])
    # parts are contiguous runs of one kind and std; keep their order, Z order within each
    part = (frame["kind"].ne(frame["kind"].shift()) | frame["std"].ne(frame["std"].shift())).cumsum().to_numpy()
    return frame.iloc[np.lexsort((lattice.z_codes(points), part))].reset_index(drop=True)


def _spread(total: int, parts: int) -> list[int]:
    base, rest = divmod(total, parts)
    return [base + (i < rest) for i in range(parts)]
