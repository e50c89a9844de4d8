"""The whole default run: raw meshes to summary, one model per run, one run after the other; wall time, core-seconds, F1, bytes kept and the steps' times.

Each run is `snakemake results/summary.csv --cores N` with one model in a fresh tree with an empty
results/, so normalizing, sampling, training, evaluation and reconstruction are all counted. Runs:
with `--baseline REV`, that revision's own default model (`hashgrid`) with its own code and config
first; then each of `--models` on this checkout. Ratios are to the first row; median train seconds
come from the summary, step seconds from Snakemake's log (per rule, median over the run's jobs).
Start-up per object: the Python processes the run started that import the package (a job per step,
a forkserver per chain run), counted from Snakemake's logs, times one such start (Python with
implicit3d.stages and torch, measured in that tree; an upper bound for steps that import no torch).
With `--shards N`, this checkout's runs put N objects in each shard job, as a large collection does.
With `--figures-for N`, every run draws figures for each model's N worst objects only
(`products.figures_for`) and runs to the default target, which draws them after the summary (the
report's files too); its page is default_run_figures_for.md.

    python benchmarks/default_run.py                                  # the 50 reference meshes, 2 cores
    python benchmarks/default_run.py --objects 0,4,8,16 --baseline v0.1.0
    python benchmarks/default_run.py --meshes data/sample_meshes --models hashgrid --shards 2
    python benchmarks/default_run.py --keep results/default_run       # keep each run's results/
    python benchmarks/default_run.py --models hashgrid --figures-for 10 --baseline REV
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from harness import Bench, parser, renamed, working_copy
from harness.workflow import (
    STEP_IMPORTS,
    bytes_kept,
    children_cpu_seconds,
    config_args,
    job_durations,
    python_starts,
    run_logs,
    snakemake,
    start_seconds,
)

from implicit3d.summary import read_summary


def main(argv: list[str] | None = None) -> None:
    p = parser(__doc__, baseline=True)
    p.add_argument("--models", default="hashgrid_12l_int8,hashgrid", help="architectures of config/config.yaml, one run each")
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--shards", type=int, default=0, help="objects per shard job in this checkout's runs (0: the config's)")
    p.add_argument("--keep", type=Path, help="copy each run's results/ into this folder, one subfolder per run")
    p.add_argument("--figures-for", type=int, default=0, help="figures for each model's N worst objects only, drawn after the summary (0: the config's)")
    args = p.parse_args(argv)
    with Bench(__file__, __doc__, args, argv) as b, b.baseline() as baseline, tempfile.TemporaryDirectory() as tmp:
        meshes = b.mesh_folder(Path(tmp) / "meshes")
        products = {"products": {"figures_for": args.figures_for}} if args.figures_for else {}
        runs = [(f"{args.baseline} ({baseline.name})", baseline, "hashgrid", products)] if baseline else []
        this = working_copy(Path(tmp) / "this")
        shards = {"shards": {"size": args.shards, "threads": args.cores}} if args.shards else {}
        runs += [(model, this, model, shards | products) for model in map(renamed, args.models.split(","))]
        results = [run(b, label, tree, meshes, model, changes, args) for label, tree, model, changes in runs]
    table = pd.DataFrame([r for r, _ in results])
    table["wall_ratio"] = (table["wall_s"] / table["wall_s"].iloc[0]).round(2)
    table["core_s_ratio"] = (table["core_s_per_object"] / table["core_s_per_object"].iloc[0]).round(2)
    table["train_ratio"] = (table["median_train_s"] / table["median_train_s"].iloc[0]).round(2)
    steps = pd.DataFrame({label: s for (label, _, _, _), (_, s) in zip(runs, results, strict=True)}).rename_axis("rule").reset_index()
    title, name = (f"The whole default run, figures for the {args.figures_for} worst objects", "default_run_figures_for") if args.figures_for else ("The whole default run", None)
    b.page(title, [("", table), ("Median seconds per step, by rule", steps)], name)


def run(b: Bench, label: str, tree: Path, meshes: Path, model: str, changes: dict, args) -> tuple[dict, pd.Series]:
    for folder in ("results", ".snakemake"):
        shutil.rmtree(tree / folder, ignore_errors=True)
    extra = config_args(tree, b.workflow_changes(tree) | changes)
    since, cpu = time.time(), children_cpu_seconds()
    target = "all" if args.figures_for else "results/summary.csv"  # the worst objects' figures come after the summary
    seconds, _ = snakemake(tree, target, "--cores", str(args.cores), *extra, "--config", f"meshes={meshes}", f"models=[{model}]")
    cpu = children_cpu_seconds() - cpu
    summary = read_summary(tree / "results" / "summary.csv")
    rows = summary[summary["object"] != "mean"]  # the per-model mean row is not an object
    logs = run_logs(tree, since)  # a sharded run's steps are in its shards' logs
    jobs = pd.concat([job_durations(log) for log in (logs[1:] or logs)])
    steps = jobs[jobs["rule"] != "all"].groupby("rule")["seconds"].median()
    starts = python_starts(logs)
    if args.keep:
        shutil.copytree(tree / "results", args.keep / label.split(" ")[0], dirs_exist_ok=True)
    print(f"{label}: {seconds:.0f} s", file=sys.stderr, flush=True)
    row = {"run": label, "model": model, "objects": len(rows), "wall_s": round(seconds), "core_s_per_object": round(cpu / len(rows), 1), "mean_f1_near": round(rows["f1_near"].mean(), 4),
           "mean_f1_volume": round(rows["f1_volume"].mean(), 4), "median_train_s": round(rows["train_seconds"].median(), 1),
           "max_model_bytes": int(rows["model_bytes"].max()), "MB_kept_per_object": round(sum(bytes_kept(tree / "results").values()) / len(rows) / 1e6, 2),
           "python_starts_per_object": round(starts / len(rows), 2), "startup_s_per_object": round(starts * start_seconds(tree, STEP_IMPORTS) / len(rows), 2)}  # fmt: skip
    return row, steps


if __name__ == "__main__":
    main()
