"""A benchmark's measured table as a page under docs/results/: the table, the exact command, the
git commit, the date and the machine (CPU model, cores, threads used)."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine(threads: str) -> str:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{cpu_model()}, {cores} cores, {threads}"


def commit() -> str:
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    return f"{head}{' with uncommitted changes' if dirty else ''}"


# The tree a benchmark measures is the one it started from (it may run for hours while work goes on).
STARTED_AT = commit()


def write_page(name: str, title: str, tables: list[tuple[str, pd.DataFrame]], threads: str, notes: str = "") -> Path:
    """Write docs/results/<name>.md: `tables` as (heading, table) pairs, with how they were made."""
    command = " ".join(["python", os.path.relpath(sys.argv[0], REPO), *sys.argv[1:]])
    parts = [f"# {title}", "", f"- command: `{command}`", f"- commit: {STARTED_AT}", f"- date: {datetime.date.today().isoformat()}",
             f"- machine: {machine(threads)}", ""]  # fmt: skip
    if notes:
        parts += [notes.strip(), ""]
    for heading, table in tables:
        parts += [f"## {heading}", "", table.to_markdown(index=False), ""]
    path = REPO / "docs" / "results" / f"{name}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts))
    return path
