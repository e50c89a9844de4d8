"""The ground truth's speed on each object's test and pool draws, in points per second; with `--baseline REV`, that revision's side by side, and how far the two disagree on the same points.

Every object draws its test points (100,000 by default, the sample stage) and its training pool
(`sampling.train`, 750,000 points by default, the train stage), each building the mesh's ground truth first unless the process
already holds it. `--jobs chain` (the default, as `object_jobs: chain` runs an object's stages in
one process) makes both draws in one fresh process per object, test first: a revision that keeps
the ground truth per process (`GroundTruth.shared`) prepares it once, in the test draw. `--jobs
steps` (one job per stage) makes each draw in a fresh process of its own: both pay for it. Draws
are `sampling.sample_splits`, as the stages call it, with `--threads` threads for the ground truth
where the code has a thread budget (a job's default: 1), alternating which revision goes first. A
draw is timed from the normalized mesh to the SDF, the ground truth's preparation included (not
the process start or the imports): its points per second are its points over those wall seconds,
an object's are both draws' points over both draws' seconds. Each process first draws on a small
mesh, untimed, so that the compiled loops are loaded (numba's cache), as a chain worker has them
after its first object; `--cold` leaves that out, and the first draw pays for loading them. The
labelling rate leaves the preparation out: the points over the seconds of `GroundTruth.sdf` alone.
CPU seconds count every thread: in a `--cores 2` run they are what the other job loses.

With a baseline, this checkout then computes the SDF of the very points the baseline drew (its
surface to draw near may differ) and counts, per draw, the signs that differ and the largest
|SDF| difference, over all points and over those whose sign agrees. Where signs differ, a 64-ray
visibility test (inside when every ray hits the mesh), which neither uses, says which side it
takes.

    python benchmarks/pool_speed.py                                  # every reference object
    python benchmarks/pool_speed.py --objects 0,16 --threads 2 --baseline v0.1.0
    python benchmarks/pool_speed.py --jobs steps                     # each draw in its own process
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from harness import REPO, Bench, parser, run_in_tree
from harness.groundtruth import visibility_inside

from implicit3d.groundtruth import compute_sdf_guarded, set_threads
from implicit3d.meshfile import read_mesh
from implicit3d.sampling import SamplingSpec, ground_truth

THIS = "this checkout"
DRAWS = ("test", "pool")


def main(argv: list[str] | None = None) -> None:
    p = parser(__doc__, baseline=True)
    p.add_argument("--threads", type=int, default=1, help="the ground truth's threads in every draw, where the code lets them be set (default: 1)")
    p.add_argument("--jobs", choices=("chain", "steps"), default="chain",
                   help="chain: both draws of an object in one process, as object_jobs: chain runs them (default); steps: each draw in a process of its own")  # fmt: skip
    p.add_argument("--cold", action="store_true", help="no untimed draw on a small mesh first: the first draw in each process loads the compiled loops")
    args = p.parse_args(argv)
    rows, agreement = [], []
    with Bench(__file__, __doc__, args, argv) as b, b.baseline() as tree:
        base = f"baseline {args.baseline}"
        trees = {THIS: REPO} | ({base: tree} if tree else {})
        for i, (name, source) in enumerate(b.meshes().items()):
            mesh = b.normalized_file(name, source)
            for where in trees.values() if i == 0 else ():  # build and cache the compiled loops before timing
                draw(where, mesh, b.config["sampling"], "test", b.work / "warm.npy", args.threads, warm=False)
            row = {"object": name, "faces": json.loads(mesh.with_suffix(".json").read_text())["faces"]}
            order = list(trees) if i % 2 == 0 else list(trees)[::-1]  # alternate, so drift favours none
            outs = {label: {kind: b.work / f"{name}_{kind}_{j}.npy" for kind in DRAWS} for j, label in enumerate(order)}
            if args.jobs == "chain":
                drawn = {label: both_draws(trees[label], mesh, b.config["sampling"], outs[label], args.threads, not args.cold) for label in order}
            else:
                drawn = {label: {kind: draw(trees[label], mesh, b.config["sampling"], kind, outs[label][kind], args.threads, not args.cold) for kind in DRAWS}
                         for label in order}  # fmt: skip
            for kind in DRAWS:
                row |= {f"{label} {kind} {k}": drawn[label][kind][k] for label in trees for k in ("points", "wall", "cpu", "labelling")}
                if tree:
                    agreement.append({"object": name, "draw": kind, **compare(mesh, b.config["sampling"], outs[base][kind], args.threads)})
            rows.append(row)
            print(f"{name:>4}: " + ", ".join(f"{label} {rate(row, label):,.0f} points/s" for label in trees), file=sys.stderr, flush=True)
        table = pd.DataFrame(rows)
        speed = per_object(table, list(trees))
        loaded = "loaded on the first draw" if args.cold else "loaded before timing"
        sections = [(f"Summary, ground-truth threads: {args.threads}, jobs: {args.jobs}, compiled loops: {loaded}", summary(table, speed, list(trees), args.threads))]
        if tree:
            sections.append(("", f"Per object, this checkout against the baseline: median speed-up {speed['speed-up'].median():.2f}x (points/s, "
                                 f"preparation included), median CPU seconds ratio {speed['CPU s ratio'].median():.2f}."))
        sections.append(("Per object", speed))
        if tree:
            sections.append(("Agreement on the baseline's points", pd.DataFrame(agreement)))
        b.page("Ground truth: points per second on the test and pool draws", sections)


def draw(tree: Path, mesh: Path, sampling: dict, kind: str, out: Path, threads: int, warm: bool) -> dict:
    """One draw in a fresh process on `tree`'s package (`warm`: after an untimed one on a small mesh); its seconds and points."""
    task = {"mesh": str(mesh), "sampling": sampling, "draw": kind, "out": str(out), "threads": threads, "warm": warm}
    return run_in_tree(tree, "draw", task, threads)


def both_draws(tree: Path, mesh: Path, sampling: dict, outs: dict[str, Path], threads: int, warm: bool) -> dict:
    """The test draw, then the pool draw, in one fresh process on `tree`'s package (as a chain job
    makes them); each one's seconds and points, by draw."""
    task = {"mesh": str(mesh), "sampling": sampling, "outs": {kind: str(out) for kind, out in outs.items()}, "threads": threads, "warm": warm}
    return run_in_tree(tree, "chain", task, threads)


def compare(mesh: Path, sampling: dict, base_draw: Path, threads: int) -> dict:
    """This checkout's SDF on the baseline's points against the baseline's SDF there."""
    drawn = np.load(base_draw)
    points, base = drawn[:, :3], drawn[:, 3].astype(np.float32)
    set_threads(threads)
    normalized = read_mesh(mesh)
    this, _ = compute_sdf_guarded(ground_truth(normalized, SamplingSpec.from_config(sampling)), points)
    this = this.astype(np.float32)  # as the draws store it
    differ, same = (base < 0) != (this < 0), (base < 0) == (this < 0)
    inside = visibility_inside(normalized, np.ascontiguousarray(points[differ])) if differ.any() else np.zeros(0, dtype=bool)
    gap = np.abs(base.astype(np.float64) - this)
    return {"points": len(points), "signs differ": int(differ.sum()),
            "max abs sdf difference": float(gap.max(initial=0.0)), "same sign: max abs sdf difference": float(gap[same].max(initial=0.0)),
            f"visibility sides with {THIS}": int(np.sum((this[differ] < 0) == inside)),
            "visibility sides with the baseline": int(np.sum((base[differ] < 0) == inside))}  # fmt: skip


def rate(row: dict | pd.DataFrame, label: str, seconds: str = "wall"):
    """Both draws' points over both draws' seconds (`labelling`: the SDF's alone)."""
    return points(row, label) / (row[f"{label} test {seconds}"] + row[f"{label} pool {seconds}"])


def points(row: dict | pd.DataFrame, label: str):
    return row[f"{label} test points"] + row[f"{label} pool points"]


def per_object(table: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
    speed = table[["object", "faces"]].assign(**{f"{kind} points": table[f"{THIS} {kind} points"] for kind in DRAWS})
    for label in labels:
        for kind in DRAWS:
            speed[f"{label} {kind} points/s"] = table[f"{label} {kind} points"] / table[f"{label} {kind} wall"]
        speed[f"{label} points/s"] = rate(table, label)
        speed[f"{label} labelling points/s"] = rate(table, label, "labelling")
    if len(labels) == 2:
        this, base = labels
        speed["speed-up"] = (speed[f"{this} points/s"] / speed[f"{base} points/s"]).round(2)
        speed["CPU s ratio"] = (cpu(table, this) / cpu(table, base)).round(2)
    return speed.round({column: 0 for column in speed.columns if column.endswith("points/s")})


def summary(table: pd.DataFrame, speed: pd.DataFrame, labels: list[str], threads: int) -> pd.DataFrame:
    rows = [{
        "": label,
        "median points/s (test + pool)": speed[f"{label} points/s"].median(),
        "median labelling points/s (preparation left out)": speed[f"{label} labelling points/s"].median(),
        "median test points/s": speed[f"{label} test points/s"].median(),
        "median pool points/s": speed[f"{label} pool points/s"].median(),
        "total wall s": table[[f"{label} {kind} wall" for kind in DRAWS]].to_numpy().sum(),
        "total CPU s": cpu(table, label).sum(),
        # What the threads would label per second, all busy: the CPU time spread over them.
        "median points per CPU s x threads": (points(table, label) / cpu(table, label) * threads).median(),
    } for label in labels]  # fmt: skip
    out = pd.DataFrame(rows)
    return out.round({column: 2 if column.startswith("total") else 0 for column in out.columns[1:]})


def cpu(table: pd.DataFrame, label: str) -> pd.Series:
    return table[f"{label} test cpu"] + table[f"{label} pool cpu"]


if __name__ == "__main__":
    main()
