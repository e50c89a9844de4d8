"""Drawing the training pool: wall and CPU seconds per object, and with `--baseline REV` the same draw by that revision side by side.

Every train job first draws its training pool (the train and val splits, 1.5M points by default)
and computes their exact signed distances. This times that draw, `sampling.training_pool`, in a
fresh process per draw as a job runs it, with `--threads` threads for the ground truth where the
code has a thread budget (a train job's: 1), alternating which revision goes first. CPU seconds
count every thread: in a `--cores 2` run they are what the other job loses.

With a baseline it then compares the two pools point by point: the largest SDF difference and how
many signs differ. Where a point is equally close to several faces the sign can depend on which face
the closest-face search returns; for those points it counts how often each side agrees with the
64-ray visibility test (inside when every ray hits the mesh), which neither uses.

    python benchmarks/pool_speed.py                          # the size sweep's 12 objects
    python benchmarks/pool_speed.py --objects 0,16 --baseline v0.1.0
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from harness import REPO, SUBSET, Bench, parser, run_in_tree
from harness.groundtruth import visibility_inside

from implicit3d.mesh import load_normalized
from implicit3d.sampling import POOL_SPLITS, SamplingSpec, draw_splits, ground_truth

THIS = "this checkout"


def main(argv: list[str] | None = None) -> None:
    p = parser(__doc__, objects=SUBSET, baseline=True)
    p.add_argument("--threads", type=int, default=1, help="the ground truth's threads, where the code lets them be set")
    args = p.parse_args(argv)
    rows = []
    with Bench(__file__, __doc__, args, argv) as b, b.baseline() as tree:
        trees = {THIS: REPO} | ({f"{args.baseline} ({tree.name})": tree} if tree else {})
        for i, (name, source) in enumerate(b.meshes().items()):
            prepared = b.prepare(name, source)
            for where in trees.values() if i == 0 else ():  # build and cache the compiled loops before timing
                draw(where, prepared, b.work / "warm.npy", args.threads)
            labels = list(trees) if i % 2 == 0 else list(trees)[::-1]  # alternate, so drift favours none
            draws = {label: draw(trees[label], prepared, b.work / f"{name}_{j}.npy", args.threads) for j, label in enumerate(labels)}
            row = {"object": name, "faces": prepared.info["faces"], "points": draws[THIS]["points"]}
            row |= {f"{label} {kind} s": draws[label][kind] for label in trees for kind in ("wall", "cpu")}
            if tree:
                row |= compare(prepared.mesh, b.config["sampling"], *(draws[label]["sdf"] for label in trees), list(trees))
            rows.append(row)
            print(f"{name:>4}: " + ", ".join(f"{label} {draws[label]['wall']:.2f} s" for label in trees), file=sys.stderr, flush=True)
        table = pd.DataFrame(rows)
        sections = [("Per object", table.round(3))]
        if tree:
            sections.append(("This checkout against the baseline", ratios(table, list(trees))))
        b.page("Drawing the training pool", sections)


def draw(tree: Path, prepared, out: Path, threads: int) -> dict:
    result = run_in_tree(tree, "pool", {"points": str(prepared.points), "mesh": str(prepared.mesh), "out": str(out), "threads": threads}, threads)
    return result | {"sdf": np.load(out)}


def compare(mesh: Path, sampling: dict, this: np.ndarray, base: np.ndarray, labels: list[str]) -> dict:
    if len(base) != len(this):
        sys.exit(f"error: {mesh}: the pools differ in length ({len(base)} against {len(this)}): not the same points")
    differ = np.sign(base) != np.sign(this)
    inside = visibility_at(mesh, sampling, differ)
    return {"max abs sdf difference": float(np.max(np.abs(base.astype(np.float64) - this))), "signs differ": int(differ.sum()),
            f"visibility agrees: {labels[0]}": int(np.sum((this[differ] < 0) == inside)),
            f"visibility agrees: {labels[1]}": int(np.sum((base[differ] < 0) == inside))}  # fmt: skip


def visibility_at(mesh: Path, sampling: dict, rows: np.ndarray) -> np.ndarray:
    """The visibility test at the pool's `rows` (the points drawn again: the same, in the same order)."""
    if not rows.any():
        return np.zeros(0, dtype=bool)
    normalized = load_normalized(mesh)
    spec = SamplingSpec.from_config(sampling)
    points = draw_splits(ground_truth(normalized, spec).surface, spec, POOL_SPLITS)[["x", "y", "z"]].to_numpy(np.float64)
    if len(points) != len(rows):
        sys.exit(f"error: {mesh}: the pool dropped points, so its rows cannot be matched to the points drawn again")
    return visibility_inside(normalized, np.ascontiguousarray(points[rows]))


def ratios(table: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
    this, base = labels
    rows = []
    for kind in ("wall", "cpu"):
        per_object = table[f"{this} {kind} s"] / table[f"{base} {kind} s"]
        rows.append({"seconds": kind, f"median {this}": table[f"{this} {kind} s"].median(), f"median {base}": table[f"{base} {kind} s"].median(),
                     "median per-object ratio": per_object.median(), "total ratio": table[f"{this} {kind} s"].sum() / table[f"{base} {kind} s"].sum()})  # fmt: skip
    return pd.DataFrame(rows).round(3)


if __name__ == "__main__":
    main()
