"""The whole workflow (`snakemake`) in a tree: this checkout's working copy or a baseline's checkout."""

from __future__ import annotations

import ctypes
import os
import re
import resource
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pandas as pd
import yaml

from .revisions import tree_env

SNAKEMAKE = Path(sys.executable).with_name("snakemake")


def snakemake(tree: Path, *args: str, timeout: int = 4 * 3600) -> tuple[float, str]:
    """Run Snakemake in `tree` with that tree's package first on the path; (seconds, its output)."""
    adopt_orphans()
    start = time.perf_counter()
    done = subprocess.run([str(SNAKEMAKE), *args], cwd=tree, env=tree_env(tree), capture_output=True, text=True, timeout=timeout)
    seconds = time.perf_counter() - start
    reap_orphans()
    if done.returncode:
        raise SystemExit(f"error: snakemake {' '.join(args)} failed in {tree}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return seconds, done.stdout + done.stderr


def adopt_orphans() -> None:
    """Make this process the reaper of its orphaned descendants (Linux), so that their CPU time counts
    among its children's: a pool's forkserver outlives the Snakemake process that started it."""
    PR_SET_CHILD_SUBREAPER = 36
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def reap_orphans(patience: float = 30.0) -> None:
    """Wait for the orphans adopted during a run (they exit once their parent has)."""
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return  # none left
        if not pid:
            time.sleep(0.05)


def children_cpu_seconds() -> float:
    """User and system CPU seconds of this process's finished children and what they waited for
    (Snakemake, its jobs, their workers): the difference across a run is the run's core-seconds."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def config_args(tree: Path, changes: dict | None) -> list[str]:
    """`--configfile` arguments that merge `changes` over the tree's config/config.yaml (none without changes)."""
    if not changes:
        return []
    path = tree / "benchmark-changes.yaml"
    path.write_text(yaml.safe_dump(changes))
    return ["--configfile", "config/config.yaml", path.name]


# A step's start: Python with the package's stages and torch (an upper bound for the steps that import no torch).
STEP_IMPORTS = [sys.executable, "-c", "import implicit3d.stages, torch"]
# Rules whose every job starts a Python process of its own (`script:`), one job per object and model.
SCRIPT_STEPS = ("normalize", "sample", "train", "evaluate", "reconstruct", "figures")


def python_starts(logs: list[Path]) -> int:
    """Python processes a run started that paid the package's imports: a job of a per-object step
    each, one forkserver per Snakemake process that ran chain (`object`) jobs (its workers fork
    from it, imports done), and one Snakemake per shard job."""
    starts = 0
    for log in logs:
        rules = job_durations(log)["rule"]
        starts += int(rules.isin(SCRIPT_STEPS).sum()) + int((rules == "object").any()) + int((rules == "shard").sum())
    return starts


def start_seconds(tree: Path, cmd: list[str], repeats: int = 3) -> float:
    """Best of `repeats`: `cmd` run in `tree` with that tree's package (a process's start, e.g. its imports)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=tree, env=tree_env(tree), capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return min(times)


def local_rules(tree: Path) -> set[str]:
    """Rules that run on the submitting host (`localrule: True`), and the target rule `all`."""
    names = {"all"}
    for rules in (tree / "workflow" / "rules").glob("*.smk"):
        for block in re.split(r"^rule ", rules.read_text(), flags=re.M)[1:]:
            if re.search(r"^\s+localrule:\s*True", block, re.M):
                names.add(block.split(":", 1)[0])
    return names


def job_counts(output: str) -> dict[str, int]:
    """Jobs per rule from the "Job stats" table of a (dry) run's output."""
    stats = output.split("Job stats:", 1)[1].split("\n\n", 1)[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", stats, re.M) if m[1] != "total"}


def job_durations(log: Path) -> pd.DataFrame:
    """Wall seconds of every job in one Snakemake log (start and finish stamps, 1 s resolution)."""
    starts, rules, ends, stamp = {}, {}, {}, None
    lines = log.read_text().splitlines()
    for i, line in enumerate(lines):
        if m := re.match(r"^\[(\w{3} \w{3} +\d+ [\d:]+ \d{4})\]$", line):
            stamp = datetime.strptime(m[1], "%a %b %d %H:%M:%S %Y")
        elif m := re.match(r"^(?:local)?rule (\w+):$", line):
            job = next(re.search(r"jobid: (\d+)", x)[1] for x in lines[i + 1 : i + 20] if "jobid:" in x)
            starts[job], rules[job] = stamp, m[1]
        elif m := re.match(r"^Finished jobid: (\d+)", line):
            ends[m[1]] = stamp
    return pd.DataFrame([(rules[j], (ends[j] - starts[j]).total_seconds()) for j in ends if j in starts], columns=["rule", "seconds"])


def run_logs(tree: Path, since: float) -> list[Path]:
    """The Snakemake logs of the run started at `since`: the top-level run's first, then its shards' runs."""
    return sorted(p for p in (tree / ".snakemake" / "log").glob("*.snakemake.log") if p.stat().st_mtime >= since)


def bytes_kept(results: Path) -> dict[str, int]:
    """Bytes under each folder of results/ (the files directly in it: 'collection')."""
    kinds: dict[str, int] = {}
    for path in results.rglob("*"):
        if path.is_file() and not path.is_symlink():
            rel = path.relative_to(results).parts
            kind = rel[0] if len(rel) > 1 else "collection"
            kinds[kind] = kinds.get(kind, 0) + path.stat().st_size
    return dict(sorted(kinds.items()))
