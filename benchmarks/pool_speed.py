"""The ground truth's speed on each object's two draws, this checkout against a baseline revision,
side by side in one run; and how far the two disagree on the same points.

Every object pays for its ground truth twice: its sample job draws the 100,000 test points, and
its train job draws the 1.52M-point training pool (`sampling.training_pool`), each in its own
process, each building the mesh's ground truth first. This times both draws with this checkout's
code and with `--baseline`'s (a git revision, exported and run in its own subprocess with its own
src/ on PYTHONPATH), alternating which tree goes first. Each draw runs in a fresh process with
`--threads` threads for the ground truth and is timed from the mesh to the SDF, the ground truth's
preparation included (not the process start or the imports). Its points per second are the draw's
points over its wall seconds; an object's are both draws' points over both draws' seconds. The
labelling rate leaves the preparation out: the points over the seconds of `GroundTruth.sdf` alone.

Then this checkout computes the SDF on the very points the baseline drew (its surface to draw near
may differ where a face side is labelled differently) and counts the signs that differ and the
largest |SDF| difference, for each draw.

    python benchmarks/pool_speed.py                                  # all 50 reference objects, 2 threads
    python benchmarks/pool_speed.py --objects 0,16 --threads 1
    python benchmarks/pool_speed.py --baseline d38ce0b --page        # and write docs/results/pool_speed.md
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
from results_page import write_page  # noqa: E402
from scale import export  # noqa: E402

from implicit3d.stages import normalize  # noqa: E402

BASELINE = "d38ce0b"  # main before the compiled sign, the float64 rays and the tie sets
ALL = ",".join(str(i) for i in range(50))

# Runs in a tree's own process: one draw as its job does it, timed from the mesh to the SDF.
# Writes the points and their SDF, prints the seconds as one JSON line.
DRAW = """
import json, resource, sys, time
import numpy as np
from implicit3d.groundtruth import set_threads
from implicit3d.mesh import load_normalized
from implicit3d.sampling import POOL_SPLITS, STORED_SPLITS, SamplingSpec, ground_truth, sample_splits
draw, mesh, sampling, out, threads = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4], int(sys.argv[5])
set_threads(threads)
def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
normalized = load_normalized(mesh)
spec = SamplingSpec.from_config(sampling)
wall, start = time.perf_counter(), cpu()
truth = ground_truth(normalized, spec)
frame, _ = sample_splits(normalized, spec, STORED_SPLITS if draw == "test" else POOL_SPLITS, truth)
print(json.dumps({"wall": time.perf_counter() - wall, "cpu": cpu() - start, "points": len(frame), **truth.seconds}))
np.save(out, frame[["x", "y", "z", "sdf"]].to_numpy(np.float64))
"""

# Runs in this checkout's process: the SDF of given points (the baseline's draw).
AGAIN = """
import sys
import numpy as np
from implicit3d.groundtruth import GroundTruth, set_threads
from implicit3d.mesh import load_normalized
mesh, points, out, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
set_threads(threads)
np.save(out, GroundTruth(load_normalized(mesh)).sdf(np.load(points)[:, :3]).astype(np.float32))
"""

# Compiles and caches a tree's kernels outside the timed runs.
WARM = """
import numpy as np, trimesh
from implicit3d.groundtruth import GroundTruth
mesh = trimesh.creation.annulus(0.3, 0.6, 0.4)
GroundTruth(mesh).sdf(np.random.default_rng(0).uniform(-1, 1, (50000, 3)))
"""


def run(tree: Path, code: str, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=tree, env=env, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"{tree}: {' '.join(args[:2])} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--meshes", type=Path, default=REPO / ".." / "shared" / "data" / "test_task_meshes")
    parser.add_argument("--objects", default=ALL, help="comma-separated mesh stems (default: all 50)")
    parser.add_argument("--baseline", default=BASELINE, help="git revision to compare with")
    parser.add_argument("--threads", type=int, default=2, help="the ground truth's threads, in both trees")
    parser.add_argument("--page", default=None, nargs="?", const="pool_speed", help="write the tables to docs/results/<PAGE>.md (default pool_speed)")
    args = parser.parse_args(argv)
    sampling = json.dumps(yaml.safe_load((REPO / "config" / "config.yaml").read_text())["sampling"])
    base_label, this_label = f"baseline {args.baseline}", "this checkout"
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        trees = {base_label: export(args.baseline, root / "baseline"), this_label: export("WORKTREE", root / "this")}
        for tree in trees.values():
            run(tree, WARM)
        for i, (name, source) in enumerate(named_meshes(args.meshes, args.objects.split(",")).items()):
            mesh = root / f"{name}.ply"
            info = normalize(str(source), str(mesh), str(root / f"{name}.json"))
            row = {"object": name, "faces": info["faces"]}
            order = list(trees) if i % 2 == 0 else list(trees)[::-1]  # alternate, so drift favours neither
            for draw in ("test", "pool"):
                for label in order:
                    out = root / f"{name}_{draw}_{label.split()[0]}.npy"
                    timing = json.loads(run(trees[label], DRAW, draw, str(mesh), sampling, str(out), str(args.threads)).strip().splitlines()[-1])
                    row[f"{draw} points"] = timing["points"]
                    row[f"{label} {draw} s"] = timing["wall"]
                    row[f"{label} {draw} CPU s"] = timing["cpu"]
                    row[f"{label} {draw} sdf s"] = timing["sdf"]  # the labelling alone, after the preparation
                drawn = root / f"{name}_{draw}_baseline.npy"
                again = root / f"{name}_{draw}_again.npy"
                run(trees[this_label], AGAIN, str(mesh), str(drawn), str(again), str(args.threads))
                base_sdf, this_sdf = np.load(drawn)[:, 3].astype(np.float32), np.load(again)
                row[f"{draw} signs differ"] = int(np.sum((base_sdf < 0) != (this_sdf < 0)))
                row[f"{draw} max |sdf diff|"] = float(np.max(np.abs(base_sdf.astype(np.float64) - this_sdf)))
                same = (base_sdf < 0) == (this_sdf < 0)
                row[f"{draw} max |sdf diff|, same sign"] = float(np.max(np.abs(base_sdf[same].astype(np.float64) - this_sdf[same]), initial=0.0))
            rows.append(row)
            print(f"{name:>4}: " + ", ".join(f"{label} {rate(row, label):,.0f} points/s" for label in trees), file=sys.stderr, flush=True)
    table = pd.DataFrame(rows)
    speed = pd.DataFrame({"object": table["object"], "faces": table["faces"]})
    for label in trees:
        for draw in ("test", "pool"):
            speed[f"{label} {draw} points/s"] = table[f"{draw} points"] / table[f"{label} {draw} s"]
        speed[f"{label} points/s"] = [rate(row, label) for row in rows]
        speed[f"{label} labelling points/s"] = (table["test points"] + table["pool points"]) / (table[f"{label} test sdf s"] + table[f"{label} pool sdf s"])
    speed["speed-up"] = (speed[f"{this_label} points/s"] / speed[f"{base_label} points/s"]).round(2)
    speed["CPU s ratio"] = ((table[f"{this_label} test CPU s"] + table[f"{this_label} pool CPU s"]) / (table[f"{base_label} test CPU s"] + table[f"{base_label} pool CPU s"])).round(2)
    agreement = table[["object"] + [f"{draw} {what}" for draw in ("test", "pool") for what in ("points", "signs differ", "max |sdf diff|", "max |sdf diff|, same sign")]]
    summary = pd.DataFrame([{
        "": label,
        "median points/s (test + pool)": speed[f"{label} points/s"].median(),
        "median labelling points/s (preparation left out)": speed[f"{label} labelling points/s"].median(),
        "median test points/s": speed[f"{label} test points/s"].median(),
        "median pool points/s": speed[f"{label} pool points/s"].median(),
        "total wall s": table[[f"{label} test s", f"{label} pool s"]].to_numpy().sum(),
        "total CPU s": table[[f"{label} test CPU s", f"{label} pool CPU s"]].to_numpy().sum(),
        # What 2 threads would label per second, busy all the time: the CPU time spread over the threads.
        "median points per CPU s x threads": ((table["test points"] + table["pool points"]) / (table[f"{label} test CPU s"] + table[f"{label} pool CPU s"]) * args.threads).median(),
    } for label in trees])  # fmt: skip
    differ = {draw: (int(table[f"{draw} signs differ"].sum()), int(table[f"{draw} points"].sum()), float(table[f"{draw} max |sdf diff|"].max())) for draw in ("test", "pool")}
    notes = (
        f"{args.threads} threads for the ground truth in both trees; each draw in a fresh process, timed from the mesh to the SDF "
        f"(preparation included). Median speed-up per object: {speed['speed-up'].median():.2f}x (wall), CPU seconds {speed['CPU s ratio'].median():.2f}x. Signs that differ on the baseline's "
        + "; ".join(f"{draw} points: {n:,} of {total:,} (max |sdf diff| {m:.3g})" for draw, (n, total, m) in differ.items())
        + ". The machine may be shared: compare the two trees' figures, measured side by side."
    )
    print(summary.round(0).to_markdown(index=False))
    print()
    for column in speed.columns:
        if column.endswith("points/s"):
            speed[column] = speed[column].round(0).astype(int)
    print(speed.to_markdown(index=False))
    print()
    print(agreement.to_markdown(index=False))
    print("\n" + notes)
    if args.page:
        path = write_page(args.page, "Ground truth: points per second on the test and pool draws", [("Summary", summary.round(0)), ("Per object", speed), ("Agreement on the baseline's points", agreement)], f"{args.threads} ground-truth threads", notes)
        print(f"wrote {path}")


def rate(row: dict, label: str) -> float:
    return (row["test points"] + row["pool points"]) / (row[f"{label} test s"] + row[f"{label} pool s"])


if __name__ == "__main__":
    main()
