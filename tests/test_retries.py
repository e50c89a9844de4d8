"""Retries that can succeed: mem_mb and runtime grow with Snakemake's `attempt`, so a job killed
for memory or time gets more on its retry (profiles/slurm sets `retries`)."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from implicit3d.errors import ConfigError
from implicit3d.workflow import scale_with_attempt

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")


def test_scale_with_attempt_multiplies_the_base():
    mem = scale_with_attempt(4000)
    assert [mem(None, attempt=n) for n in (1, 2, 3)] == [4000, 8000, 12000]
    for bad in (0, -5, 2.5, "4000", True):
        with pytest.raises(ConfigError, match="positive whole number"):
            scale_with_attempt(bad)


# A job that enforces the memory it was given (ulimit -v) and needs more than its first attempt
# gets: 250 MB does not fit under 200 MB, and fits under 400 MB (the interpreter needs < 60 MB).
# Each attempt appends what it saw to attempts.txt, which Snakemake does not remove on failure.
RETRY_SNAKEFILE = """
from implicit3d.workflow import scale_with_attempt

PYTHON = {python!r}


rule grow:
    output:
        "seen.txt",
    resources:
        mem_mb=scale_with_attempt(200),
        runtime=scale_with_attempt(3),
    shell:
        '''
        if (ulimit -v $(( {{resources.mem_mb}} * 1024 )); {{PYTHON}} -c "bytearray(250 * 2**20)"); then
            echo "mem_mb={{resources.mem_mb}} runtime={{resources.runtime}} ok" >> attempts.txt
            echo "mem_mb={{resources.mem_mb}} runtime={{resources.runtime}}" > {{output}}
        else
            echo "mem_mb={{resources.mem_mb}} runtime={{resources.runtime}} failed" >> attempts.txt
            exit 1
        fi
        '''
"""


def test_a_job_short_of_memory_succeeds_on_its_retry(tmp_path):
    (tmp_path / "Snakefile").write_text(RETRY_SNAKEFILE.format(python=sys.executable))
    cmd = [str(SNAKEMAKE), "--cores", "1", "--retries", "1"]
    run = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    log = run.stdout + run.stderr
    assert run.returncode == 0, log[-3000:]
    attempts = (tmp_path / "attempts.txt").read_text().splitlines()
    assert attempts == ["mem_mb=200 runtime=3 failed", "mem_mb=400 runtime=6 ok"], log[-3000:]
    assert (tmp_path / "seen.txt").read_text().strip() == "mem_mb=400 runtime=6"
    assert "Error in rule grow" in log  # Snakemake saw the first attempt fail, and retried


def test_without_a_retry_the_same_job_fails(tmp_path):
    (tmp_path / "Snakefile").write_text(RETRY_SNAKEFILE.format(python=sys.executable))
    run = subprocess.run([str(SNAKEMAKE), "--cores", "1"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode != 0
    assert (tmp_path / "attempts.txt").read_text().splitlines() == ["mem_mb=200 runtime=3 failed"]
    assert not (tmp_path / "seen.txt").exists()


# Rules of the real workflow that declare mem_mb and runtime; the dry run must plan each of them.
RESOURCE_RULES = {
    "object", "normalize", "sample", "train", "evaluate", "reconstruct",
    "figures", "summary_report", "figure_size", "viewer", "aggregate", "tracking",
}  # fmt: skip


def planned_resources(workdir: Path, attempt: int, jobs: str) -> dict[str, list[dict[str, str]]]:
    """Per rule, the resources of each job that the real workflow's dry run plans at `attempt`
    (Snakemake's --attempt sets the attempt that jobs start from, as a retried remote job does),
    with `jobs` as object_jobs (chain: one job per object; steps: one per stage)."""
    cmd = [
        str(SNAKEMAKE), "-n", "--cores", "1", "--attempt", str(attempt),
        "--configfile", str(REPO / "tests" / "data" / "tiny.yaml"), "--config", "meshes=meshes", f"object_jobs={jobs}",
    ]  # fmt: skip
    run = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=300)
    text = run.stdout + run.stderr
    assert run.returncode == 0, text[-3000:]
    planned: dict[str, list[dict[str, str]]] = {}
    jobs = None
    for line in text.splitlines():
        if header := re.fullmatch(r"(?:local)?rule (\w+):", line):
            jobs = planned.setdefault(header.group(1), [])
            jobs.append({})
        elif jobs is not None and line.startswith("    resources: "):
            jobs[-1].update(item.split("=", 1) for item in line.removeprefix("    resources: ").split(", "))
        elif not line.startswith("    "):
            jobs = None  # the job's indented block ended
    return planned


def test_every_rule_of_the_workflow_scales_memory_and_time_with_attempt(tmp_path):
    for name in ("Snakefile", "workflow", "config", "environment.yml"):
        src = REPO / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / name)
    (tmp_path / "meshes").mkdir()
    shutil.copy(REPO / "data" / "sample_meshes" / "joint.ply", tmp_path / "meshes")

    first, second = (planned_resources(tmp_path, attempt, "steps") | planned_resources(tmp_path, attempt, "chain") for attempt in (1, 2))
    assert RESOURCE_RULES <= set(first), sorted(first)
    assert first.keys() == second.keys()
    checked = set()
    for rule, jobs in first.items():
        assert len(jobs) == len(second[rule])
        for one, two in zip(jobs, second[rule], strict=True):
            for key in ("mem_mb", "runtime"):
                if key in one:
                    assert int(two[key]) == 2 * int(one[key]), (rule, key, one, two)
                    checked.add(rule)
            assert {k: v for k, v in one.items() if not k.startswith(("mem", "runtime"))} == {
                k: v for k, v in two.items() if not k.startswith(("mem", "runtime"))
            }, rule  # gpu, tmpdir and the rest do not change
    assert RESOURCE_RULES <= checked
    # The first attempt still gets config/config.yaml's values.
    assert (first["train"][0]["mem_mb"], first["train"][0]["runtime"]) == ("4000", "60")
