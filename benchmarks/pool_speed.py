"""The training pool's ground truth: this checkout against a baseline revision, side by side.

Every train job draws its training pool (1.5M points by default) and computes their exact signed
distances before it trains. This times that draw, `sampling.training_pool`, on each object with
this checkout's code and with `--baseline`'s (a git revision, exported and run in its own
subprocess with its own src/ on PYTHONPATH), alternating which goes first. Each run is a fresh
process, as a job is, and reports its wall and CPU seconds (CPU: all threads; two jobs share the
two cores of a `--cores 2` run, so CPU seconds are what the other job loses).

Then it compares the two pools' signed distances point by point: largest difference and how many
signs differ (the points and the sign are the same code; only the closest-face search changed).

    python benchmarks/pool_speed.py                          # the size sweep's 12 objects
    python benchmarks/pool_speed.py --objects 0,16 --baseline efaea2a
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
from named_meshes import REPO, named_meshes  # noqa: E402
from scale import export  # noqa: E402
from size_sweep import SUBSET  # noqa: E402

from implicit3d.stages import normalize, sample  # noqa: E402

BASELINE = "efaea2a"  # main with libigl's AABB tree as the closest-face search

# Runs in a tree's own process: draws the pool, saves its SDF, prints the seconds as one JSON line.
DRAW = """
import json, resource, sys, time
import numpy as np
from implicit3d.io import read_points_metadata
from implicit3d.mesh import load_normalized
from implicit3d.sampling import training_pool
points, mesh, out = sys.argv[1:4]
def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
meta, normalized = read_points_metadata(points), load_normalized(mesh)
wall, start = time.perf_counter(), cpu()
frame, _ = training_pool(normalized, meta, source=mesh)
print(json.dumps({"wall": time.perf_counter() - wall, "cpu": cpu() - start, "points": len(frame)}))
np.save(out, frame["sdf"].to_numpy())
"""


def draw(tree: Path, points: Path, mesh: Path, out: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    done = subprocess.run([sys.executable, "-c", DRAW, str(points), str(mesh), str(out)], cwd=tree, env=env, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"{tree}: drawing the pool of {mesh} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--meshes", type=Path, default=REPO / ".." / "shared" / "data" / "test_task_meshes")
    parser.add_argument("--objects", default=SUBSET, help="comma-separated mesh stems")
    parser.add_argument("--baseline", default=BASELINE, help="git revision to compare with")
    args = parser.parse_args(argv)
    sampling = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["sampling"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        trees = {f"baseline {args.baseline}": export(args.baseline, root / "baseline"), "this checkout": export("WORKTREE", root / "this")}
        for tree in trees.values():  # compile and cache the kernels outside the timed runs
            subprocess.run([sys.executable, "-c", "import implicit3d.groundtruth.distance"], cwd=tree, env={**os.environ, "PYTHONPATH": str(tree / "src")}, check=True)
        for i, (name, source) in enumerate(named_meshes(args.meshes, args.objects.split(",")).items()):
            mesh, points = root / f"{name}.ply", root / f"{name}.parquet"
            info = normalize(str(source), str(mesh), str(root / f"{name}.json"))
            sample(str(mesh), str(points), sampling)
            labels = list(trees) if i % 2 == 0 else list(trees)[::-1]  # alternate, so drift favours neither
            runs = {label: draw(trees[label], points, mesh, root / f"{name}_{j}.npy") | {"file": root / f"{name}_{j}.npy"} for j, label in enumerate(labels)}
            base, this = (np.load(runs[label]["file"]) for label in trees)
            row = {"object": name, "faces": info["faces"], "points": runs["this checkout"]["points"]}
            for label in trees:
                row[f"{label} wall s"] = runs[label]["wall"]
                row[f"{label} CPU s"] = runs[label]["cpu"]
            row["max |sdf diff|"] = float(np.max(np.abs(base.astype(np.float64) - this))) if len(base) == len(this) else np.nan
            row["signs differ"] = int(np.sum(np.sign(base) != np.sign(this))) if len(base) == len(this) else -1
            rows.append(row)
            print(f"{name:>4}: " + ", ".join(f"{label} {runs[label]['wall']:.2f} s" for label in trees), file=sys.stderr, flush=True)
    table = pd.DataFrame(rows)
    base_label = next(iter(trees))
    median = {"object": "median", **{c: table[c].median() for c in table.columns if c.endswith(" s")}}
    table = pd.concat([table, pd.DataFrame([median])], ignore_index=True)
    print(table.round(3).to_markdown(index=False))
    for kind in ("wall", "CPU"):
        ratio = (table[f"this checkout {kind} s"] / table[f"{base_label} {kind} s"]).iloc[:-1]
        print(f"\n{kind} seconds, this checkout / baseline: median per object {ratio.median():.2f}x, total {table[f'this checkout {kind} s'].iloc[:-1].sum() / table[f'{base_label} {kind} s'].iloc[:-1].sum():.2f}x")


if __name__ == "__main__":
    main()
