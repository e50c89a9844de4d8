"""The training pool's ground truth: this checkout against a baseline revision, side by side.

Every train job draws its training pool (1.5M points by default) and computes their exact signed
distances before it trains. This times that draw, `sampling.training_pool`, on each object with
this checkout's code and with `--baseline`'s (a git revision, exported and run in its own
subprocess with its own src/ on PYTHONPATH), alternating which goes first. Each run is a fresh
process, as a job is, and reports its wall and CPU seconds (CPU: all threads; two jobs share the
two cores of a `--cores 2` run, so CPU seconds are what the other job loses). Each uses the threads
a train job gives it: `--threads` (default 1, a train job's) where the tree has a thread budget
(`implicit3d.groundtruth.set_threads`); a tree without one, such as the baseline, searches in
libigl's threads and its own two, whatever the job declared.

Then it compares the two pools' signed distances point by point: the largest difference and how
many signs differ. The points and the sign's rules are the same code; where a point is equally close
to several faces, though, the sign can depend on which one the search returns (libigl: the first its
traversal met; this search: the lowest index). For the points whose signs differ it counts how often
each side agrees with `groundtruth_benchmark.py`'s 64-ray visibility test (inside when every ray
hits the mesh), which neither side uses.

    python benchmarks/pool_speed.py                          # the size sweep's 12 objects
    python benchmarks/pool_speed.py --objects 0,16 --baseline efaea2a
    python benchmarks/pool_speed.py --threads 2               # this checkout in two threads
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from groundtruth_benchmark import visibility_inside  # noqa: E402
from named_meshes import REPO, named_meshes  # noqa: E402
from scale import export  # noqa: E402
from size_sweep import SUBSET  # noqa: E402

from implicit3d.mesh import load_normalized  # noqa: E402
from implicit3d.sampling import POOL_SPLITS, SamplingSpec, draw_splits, ground_truth  # noqa: E402
from implicit3d.stages import normalize, sample  # noqa: E402

VISIBILITY_RAYS = 64

BASELINE = "efaea2a"  # main with libigl's AABB tree as the closest-face search

# Runs in a tree's own process: draws the pool, saves its SDF, prints the seconds as one JSON line.
DRAW = """
import json, resource, sys, time
import numpy as np
from implicit3d.io import read_points_metadata
from implicit3d.mesh import load_normalized
from implicit3d.sampling import training_pool
points, mesh, out, threads = sys.argv[1:5]
try:
    from implicit3d.groundtruth import set_threads
    set_threads(int(threads))
except ImportError:  # a tree without a thread budget
    pass
def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
meta, normalized = read_points_metadata(points), load_normalized(mesh)
wall, start = time.perf_counter(), cpu()
frame, _ = training_pool(normalized, meta, source=mesh)
print(json.dumps({"wall": time.perf_counter() - wall, "cpu": cpu() - start, "points": len(frame)}))
np.save(out, frame["sdf"].to_numpy())
"""


def draw(tree: Path, points: Path, mesh: Path, out: Path, threads: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    done = subprocess.run([sys.executable, "-c", DRAW, str(points), str(mesh), str(out), str(threads)], cwd=tree, env=env, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"{tree}: drawing the pool of {mesh} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--meshes", type=Path, default=REPO / ".." / "shared" / "data" / "test_task_meshes")
    parser.add_argument("--objects", default=SUBSET, help="comma-separated mesh stems")
    parser.add_argument("--baseline", default=BASELINE, help="git revision to compare with")
    parser.add_argument("--threads", type=int, default=1, help="the ground truth's threads, where a tree lets them be set")
    args = parser.parse_args(argv)
    sampling = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["sampling"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        base_label = f"baseline {args.baseline}"
        trees = {base_label: export(args.baseline, root / "baseline"), "this checkout": export("WORKTREE", root / "this")}
        for tree in trees.values():  # compile and cache the kernels outside the timed runs
            subprocess.run([sys.executable, "-c", "import implicit3d.groundtruth.distance"], cwd=tree, env={**os.environ, "PYTHONPATH": str(tree / "src")}, check=True)
        for i, (name, source) in enumerate(named_meshes(args.meshes, args.objects.split(",")).items()):
            mesh, points = root / f"{name}.ply", root / f"{name}.parquet"
            info = normalize(str(source), str(mesh), str(root / f"{name}.json"))
            sample(str(mesh), str(points), sampling)
            labels = list(trees) if i % 2 == 0 else list(trees)[::-1]  # alternate, so drift favours neither
            runs = {label: draw(trees[label], points, mesh, root / f"{name}_{j}.npy", args.threads) | {"file": root / f"{name}_{j}.npy"} for j, label in enumerate(labels)}
            base, this = (np.load(runs[label]["file"]) for label in trees)
            if len(base) != len(this):
                sys.exit(f"{name}: the pools differ in length ({len(base)} against {len(this)}): not the same points")
            row = {"object": name, "faces": info["faces"], "points": runs["this checkout"]["points"]}
            for label in trees:
                row[f"{label} wall s"] = runs[label]["wall"]
                row[f"{label} CPU s"] = runs[label]["cpu"]
            differ = np.sign(base) != np.sign(this)
            row["max |sdf diff|"] = float(np.max(np.abs(base.astype(np.float64) - this)))
            row["signs differ"] = int(differ.sum())
            inside = visibility_at_rows(mesh, sampling, differ)
            row[f"visibility agrees: {base_label}"] = int(np.sum((base[differ] < 0) == inside))
            row["visibility agrees: this checkout"] = int(np.sum((this[differ] < 0) == inside))
            rows.append(row)
            print(f"{name:>4}: " + ", ".join(f"{label} {runs[label]['wall']:.2f} s" for label in trees), file=sys.stderr, flush=True)
    table = pd.DataFrame(rows)
    total = {"object": "median / total", **{c: table[c].median() for c in table.columns if c.endswith(" s")},
             **{c: table[c].sum() for c in table.columns if c == "signs differ" or c.startswith("visibility")}}  # fmt: skip
    table = pd.concat([table, pd.DataFrame([total])], ignore_index=True)
    print(table.round(3).to_markdown(index=False))
    for kind in ("wall", "CPU"):
        ratio = (table[f"this checkout {kind} s"] / table[f"{base_label} {kind} s"]).iloc[:-1]
        print(f"\n{kind} seconds, this checkout / baseline: median per object {ratio.median():.2f}x, total {table[f'this checkout {kind} s'].iloc[:-1].sum() / table[f'{base_label} {kind} s'].iloc[:-1].sum():.2f}x")


def visibility_at_rows(mesh: Path, sampling: dict, rows: np.ndarray) -> np.ndarray:
    """The visibility test at the pool's `rows` (drawn again: the same points, in the same order)."""
    if not rows.any():
        return np.zeros(0, dtype=bool)
    normalized = load_normalized(mesh)
    spec = SamplingSpec.from_config(sampling)
    points = draw_splits(ground_truth(normalized, spec).surface, spec, POOL_SPLITS)[["x", "y", "z"]].to_numpy(np.float64)
    if len(points) != len(rows):
        sys.exit(f"{mesh}: the pool dropped points, so its rows cannot be matched to the points drawn again")
    return visibility_inside(normalized, np.ascontiguousarray(points[rows]), VISIBILITY_RAYS)


if __name__ == "__main__":
    main()
