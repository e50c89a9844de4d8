"""Scale: how long a dry run plans, how many cluster jobs each object costs, how many bytes a run keeps
per object and how short the shortest job is, for this checkout and a baseline revision side by side.

The collections are synthetic: 1,000 and 10,000 links to the built-in sample's 4 meshes. Planning is
`snakemake -n --quiet` from an empty results/ (best of --repeats). Jobs per object count the jobs a
cluster would run (every job but the local rules). Bytes and job times come from real runs of the
built-in sample with the default config, one per version; this checkout runs with shards of 2
objects, as a large collection would (its shards are then the jobs a cluster sees).

    python benchmarks/scale.py                        # baseline 03165d6 (before shards), ~15 min
    python benchmarks/scale.py --skip-run             # planning and job counts only, ~4 min
    python benchmarks/scale.py --sizes 1000 --baseline HEAD~3
    python benchmarks/scale.py --sizes 1000 --skip-run --nested-size 50000   # nested ids: discovery and dry run

`--nested-size` (default 50,000) also builds a ShapeNetCore v2-shaped tree of that many links beside a flat
folder of as many, and times finding the objects and the dry run (shards) for both, in this checkout.

The baseline is exported with `git archive` and runs with its own src/ first on PYTHONPATH, in this
environment. Prints the table; writes results/scale/scale.csv.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
BASELINE = "03165d6"  # main before shards and the training pool's removal
SAMPLE = REPO / "data" / "sample_meshes"
# What a run keeps, by folder of results/ ("collection": the files directly in it: summary, viewer)
KINDS = ("samples", "meshes", "figures", "models", "normalized", "collection", "logs", "eval", "shards", "plots")


def export(rev: str, dest: Path) -> Path:
    """The tree of `rev` (this checkout's working tree for 'WORKTREE') in `dest`."""
    dest.mkdir(parents=True)
    if rev == "WORKTREE":
        for name in ("Snakefile", "workflow", "config", "profiles", "src", "data"):
            src = REPO / name
            (shutil.copytree if src.is_dir() else shutil.copy)(src, dest / name)
    else:
        archive = subprocess.run(["git", "archive", rev], cwd=REPO, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def collection(root: Path, size: int) -> Path:
    folder = root / f"collection_{size}"
    if not folder.exists():
        folder.mkdir(parents=True)
        meshes = sorted(SAMPLE.glob("*.ply"))
        for i in range(size):
            (folder / f"obj{i:05d}.ply").symlink_to(meshes[i % len(meshes)])
    return folder


def shapenet_tree(root: Path, size: int) -> Path:
    """A ShapeNetCore v2-shaped tree of `size` links: <synset>/<model id>/models/model_normalized.obj
    (plus the .mtl beside it that a run skips), over 5 synsets."""
    folder = root / f"shapenet_{size}"
    if not folder.exists():
        meshes = sorted(SAMPLE.glob("*.ply"))
        synsets = ("02691156", "02828884", "02933112", "03001627", "04379243")
        for i in range(size):
            models = folder / synsets[i % len(synsets)] / f"{i:08x}{'f' * 24}" / "models"
            models.mkdir(parents=True)
            (models / "model_normalized.obj").symlink_to(meshes[i % len(meshes)])
            (models / "model_normalized.mtl").symlink_to(meshes[i % len(meshes)])
    return folder


def discovery(tree: Path, meshes: Path, repeats: int) -> float:
    """Seconds to find a collection's objects (implicit3d.workflow.load_collection), best of `repeats`."""
    code = ("import sys, time; from implicit3d.workflow import load_collection; t = time.perf_counter(); "
            "n = len(load_collection({'meshes': sys.argv[1]}).entries); print(time.perf_counter() - t, n)")  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    runs = [subprocess.run([sys.executable, "-c", code, str(meshes)], env=env, capture_output=True, text=True, check=True) for _ in range(repeats)]
    return min(float(r.stdout.split()[0]) for r in runs)


def snakemake(tree: Path, *args: str, timeout: int = 3600) -> tuple[float, str]:
    """Run Snakemake in `tree` with that tree's package first on the path; (seconds, output)."""
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    env.pop("SNAKEMAKE_PROFILE", None)
    start = time.perf_counter()
    run = subprocess.run([str(SNAKEMAKE), *args], cwd=tree, env=env, capture_output=True, text=True, timeout=timeout)
    seconds = time.perf_counter() - start
    if run.returncode != 0:
        raise SystemExit(f"snakemake {' '.join(args)} failed in {tree}:\n{run.stdout[-2000:]}{run.stderr[-2000:]}")
    return seconds, run.stdout + run.stderr


def local_rules(tree: Path) -> set[str]:
    """Rules that run on the submitting host (`localrule: True`), and the target rule `all`."""
    names = {"all"}
    for rules in (tree / "workflow" / "rules").glob("*.smk"):
        for block in re.split(r"^rule ", rules.read_text(), flags=re.M)[1:]:
            if re.search(r"^\s+localrule:\s*True", block.split("\nrule ", 1)[0], re.M):
                names.add(block.split(":", 1)[0])
    return names


def job_stats(output: str) -> dict[str, int]:
    stats = output.split("Job stats:", 1)[1].split("\n\n", 1)[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", stats, re.M) if m[1] != "total"}


def planning(tree: Path, meshes: Path, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        shutil.rmtree(tree / "results", ignore_errors=True)
        shutil.rmtree(tree / ".snakemake", ignore_errors=True)
        times.append(snakemake(tree, "-n", "--cores", "2", "--quiet", "--config", f"meshes={meshes}")[0])
    return min(times)


def cluster_jobs(tree: Path, meshes: Path, objects: int) -> tuple[float, dict[str, int]]:
    stats = job_stats(snakemake(tree, "-n", "--cores", "2", "--config", f"meshes={meshes}")[1])
    remote = {rule: n for rule, n in stats.items() if rule not in local_rules(tree)}
    return sum(remote.values()) / objects, remote


def startup(tree: Path, meshes: Path, repeats: int = 3) -> dict[str, float]:
    """What every job pays before its work (best of `repeats`): a cluster job's Snakemake re-reading
    the workflow and the collection, and a step's Python with the package's imports."""
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}

    def best(cmd: list[str]) -> float:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            subprocess.run(cmd, cwd=tree, env=env, capture_output=True, check=True)
            times.append(time.perf_counter() - start)
        return min(times)

    return {
        "snakemake parsing the workflow": best([str(SNAKEMAKE), "--list-rules", "--config", f"meshes={meshes}"]),
        "python + implicit3d.stages": best([sys.executable, "-c", "import implicit3d.stages"]),
        "python + implicit3d.stages + torch": best([sys.executable, "-c", "import implicit3d.stages, torch"]),
    }


def job_durations(log_path: Path) -> pd.DataFrame:
    """Wall time of every job in one Snakemake log (start and finish stamps, 1 s resolution)."""
    starts, rules, ends = {}, {}, {}
    stamp = None
    lines = log_path.read_text().splitlines()
    for i, line in enumerate(lines):
        if m := re.match(r"^\[(\w{3} \w{3} +\d+ [\d:]+ \d{4})\]$", line):
            stamp = datetime.strptime(m[1], "%a %b %d %H:%M:%S %Y")
        elif m := re.match(r"^(?:local)?rule (\w+):$", line):
            job = next(re.search(r"jobid: (\d+)", x)[1] for x in lines[i + 1 : i + 20] if "jobid:" in x)
            starts[job], rules[job] = stamp, m[1]
        elif m := re.match(r"^Finished jobid: (\d+)", line):
            ends[m[1]] = stamp
    rows = [(rules[j], (ends[j] - starts[j]).total_seconds()) for j in ends if j in starts]
    return pd.DataFrame(rows, columns=["rule", "seconds"])


def run_logs(tree: Path, since: float) -> tuple[Path, list[Path]]:
    """The logs of the run started at `since`: the top-level run's (the first) and its shards' runs."""
    logs = sorted(p for p in (tree / ".snakemake" / "log").glob("*.snakemake.log") if p.stat().st_mtime >= since)
    return logs[0], logs[1:]


def bytes_by_kind(results: Path, objects: int) -> dict[str, float]:
    """Bytes under each folder of results/ (files directly in it: 'collection'), per object."""
    kinds: dict[str, int] = {}
    for path in results.rglob("*"):
        if path.is_file() and not path.is_symlink():
            rel = path.relative_to(results).parts
            kind = rel[0] if len(rel) > 1 else "collection"
            kinds[kind] = kinds.get(kind, 0) + path.stat().st_size
    return {k: v / objects for k, v in sorted(kinds.items())}


def run_sample(tree: Path, shards: int) -> tuple[dict[str, float], pd.DataFrame, pd.DataFrame, float]:
    """Bytes kept per object by kind, the cluster jobs' and the per-object steps' times, and the run's time."""
    shutil.rmtree(tree / "results", ignore_errors=True)
    since = time.time()
    args = ["--cores", "2"]
    if shards:
        (tree / "shards.yaml").write_text(f"shards: {{size: {shards}, threads: 2, mem_mb: 8000, runtime: 60}}\n")
        args += ["--configfile", "config/config.yaml", "shards.yaml"]
    seconds, _ = snakemake(tree, *args)
    objects = len(list(SAMPLE.glob("*.ply")))
    top, nested = run_logs(tree, since)
    jobs = job_durations(top)
    jobs = jobs[~jobs.rule.isin(local_rules(tree))]
    steps = pd.concat([job_durations(log) for log in nested]) if nested else jobs
    return bytes_by_kind(tree / "results", objects), jobs, steps[steps.rule != "all"], seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", default=BASELINE, help="git revision to compare with")
    parser.add_argument("--sizes", default="1000,10000", help="collection sizes to plan")
    parser.add_argument("--repeats", type=int, default=1, help="dry runs per version and size (best taken)")
    parser.add_argument("--skip-run", action="store_true", help="no runs of the sample (no bytes or job times)")
    parser.add_argument("--nested-size", type=int, default=50000,
                        help="objects of the flat folder and the ShapeNet-shaped tree whose discovery and dry run are compared; 0: skip")  # fmt: skip
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    root = Path(tempfile.mkdtemp(prefix="implicit3d-scale-"))
    versions = {
        f"baseline {args.baseline}": export(args.baseline, root / "baseline"),
        "this checkout": export("WORKTREE", root / "current"),
    }
    rows = []
    for size in sizes:
        meshes = collection(root, size)
        for name, tree in versions.items():
            seconds = planning(tree, meshes, args.repeats)
            rows.append({"measure": f"plan {size:,} objects (s)", "version": name, "value": round(seconds, 1)})
            print(f"planned {size} objects with {name}: {seconds:.1f} s", flush=True)
    if args.nested_size:
        # Nested ids: a dataset as it ships beside a flat folder of as many files (this checkout only:
        # earlier versions read flat folders alone).
        tree = versions["this checkout"]
        for layout, meshes in (("flat folder", collection(root, args.nested_size)), ("ShapeNet-shaped tree", shapenet_tree(root, args.nested_size))):
            for measure, seconds in (("find the objects", discovery(tree, meshes, 3)), ("dry run, shards", planning(tree, meshes, args.repeats))):
                rows.append({"measure": f"{measure}, {args.nested_size:,} objects (s)", "version": f"this checkout, {layout}", "value": round(seconds, 2)})
                print(f"{layout}, {args.nested_size} objects: {measure} {seconds:.2f} s", flush=True)
    meshes = collection(root, min(sizes))
    for name, tree in versions.items():
        per_object, jobs = cluster_jobs(tree, meshes, min(sizes))
        rows.append({"measure": "cluster jobs per object", "version": name, "value": round(per_object, 3)})
        print(f"{name}: cluster jobs at {min(sizes)} objects: {jobs}", flush=True)
    meshes = collection(root, max(sizes))
    for name, tree in versions.items():
        for what, seconds in startup(tree, meshes).items():
            rows.append({"measure": f"job start: {what} (s)", "version": name, "value": round(seconds, 2)})
    if not args.skip_run:
        for name, tree in versions.items():
            kinds, jobs, steps, seconds = run_sample(tree, shards=0 if name.startswith("baseline") else 2)

            def add(measure: str, value: object, version: str = name) -> None:
                rows.append({"measure": measure, "version": version, "value": value})

            add("run of the sample (s)", round(seconds))
            add("MB kept per object", round(sum(kinds.values()) / 1e6, 2))
            for kind in KINDS:
                add(f"  {kind} (MB per object)", round(kinds.get(kind, 0) / 1e6, 3))
            shortest = jobs.loc[jobs.seconds.idxmin()]
            add("cluster jobs of the sample run", len(jobs))
            add("shortest cluster job (s)", f"{shortest.seconds:.0f} ({shortest.rule})")
            add(
                "median step by rule (s)",
                ", ".join(f"{r} {t:.0f}" for r, t in steps.groupby("rule").seconds.median().items()),
            )
            print(f"ran the sample with {name}: {seconds:.0f} s", flush=True)
    table = pd.DataFrame(rows).pivot_table(
        index="measure", columns="version", values="value", aggfunc="first", sort=False
    )
    table = table[[c for c in table.columns if c in versions] + [c for c in table.columns if c not in versions]]
    out = REPO / "results" / "scale"
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "scale.csv")
    print()
    print(table.to_markdown())
    planned = [r for r in rows if r["measure"].startswith("plan ")]
    for size in sizes:
        base, new = (
            next(r["value"] for r in planned if r["measure"] == f"plan {size:,} objects (s)" and r["version"] == v)
            for v in versions
        )
        print(f"planning {size:,} objects: {base / new:.1f}x faster")
    shutil.rmtree(root)


if __name__ == "__main__":
    main()
