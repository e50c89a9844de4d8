"""Shards: a large collection is planned as one job per group of objects (implicit3d.shards)."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from implicit3d.shards import (
    AUTO_SIZE,
    AUTO_THRESHOLD,
    SHARD_ENV,
    nested_command,
    shard_index,
    shard_size,
    split_shards,
)

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")


def test_auto_shards_only_large_collections():
    assert shard_size("auto", AUTO_THRESHOLD - 1) == 0
    assert shard_size("auto", AUTO_THRESHOLD) == AUTO_SIZE
    assert shard_size(7, 3) == 7 and shard_size(0, 10**6) == 0


def test_shard_index_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv(SHARD_ENV, raising=False)
    assert shard_index() is None
    monkeypatch.setenv(SHARD_ENV, "12")
    assert shard_index() == 12


def test_shards_are_consecutive_groups_covering_every_object_once():
    objects = [f"o{i:03d}" for i in range(250)]
    shards = split_shards(objects, 100)
    assert [len(s) for s in shards] == [100, 100, 50]
    assert sum(shards, []) == objects
    assert split_shards(objects, 0) == []


def test_nested_run_is_local_unlocked_and_keeps_going():
    cmd = nested_command("/w/Snakefile", "/w", "/w/c.json", cores=4, mem_mb=8000, deployment=["conda"])
    assert cmd[:3] == [sys.executable, "-m", "snakemake"]
    joined = " ".join(cmd)
    for part in (
        "--cores 4",
        "--resources mem_mb=8000",
        "--configfile /w/c.json",
        "--executor local",
        "--keep-going",
        "--nolock",
    ):
        assert part in joined
    assert "--software-deployment-method conda" in joined


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    """A workflow copy and a collection of 1,000 objects (links to the sample's 4 meshes)."""
    work = tmp_path_factory.mktemp("shards")
    shutil.copy(REPO / "Snakefile", work)
    for name in ("workflow", "config"):
        shutil.copytree(REPO / name, work / name)
    meshes = work / "meshes"
    meshes.mkdir()
    sources = sorted((REPO / "data" / "sample_meshes").glob("*.ply"))
    for i in range(AUTO_THRESHOLD):
        (meshes / f"obj{i:04d}.ply").symlink_to(sources[i % len(sources)])
    return work


def planned_jobs(work: Path, configfile: Path | None = None, shard: int | None = None) -> dict[str, int]:
    extra = ["--configfile", str(configfile)] if configfile else []
    env = {k: v for k, v in os.environ.items() if k != SHARD_ENV}
    if shard is not None:
        env[SHARD_ENV] = str(shard)  # as a shard job sets it for its nested run
    run = subprocess.run(
        [str(SNAKEMAKE), "-n", "--cores", "2", *extra, "--config", f"meshes={work / 'meshes'}"],
        cwd=work, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    stats = (run.stdout + run.stderr).split("Job stats:", 1)[1].split("\n\n", 1)[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", stats, re.M)}


def test_large_collection_plans_shard_jobs_only(collection):
    jobs = planned_jobs(collection)
    assert jobs["shard"] == AUTO_THRESHOLD // AUTO_SIZE
    assert not {"object", "normalize", "sample", "train", "evaluate", "reconstruct", "figures"} & set(jobs)
    assert {"aggregate", "viewer", "tracking"} <= set(jobs)  # the collection steps still run here


def test_shard_run_plans_its_own_objects_only(collection):
    """Each of its objects as one job (its stages in one worker process), even where the
    configuration asks for a job per stage."""
    (collection / "steps.yaml").write_text("object_jobs: steps\n")
    jobs = planned_jobs(collection, shard=2, configfile=collection / "steps.yaml")
    assert jobs["object"] == AUTO_SIZE and not {"normalize", "train", "figures"} & set(jobs)
    assert "shard" not in jobs and "aggregate" not in jobs


def test_size_zero_plans_every_object(collection):
    (collection / "unsharded.yaml").write_text("shards: {size: 0}\n")
    jobs = planned_jobs(collection, configfile=collection / "unsharded.yaml")
    assert "shard" not in jobs
    assert jobs["object"] == AUTO_THRESHOLD
    (collection / "steps.yaml").write_text("shards: {size: 0}\nobject_jobs: steps\n")
    jobs = planned_jobs(collection, configfile=collection / "steps.yaml")
    assert jobs["normalize"] == jobs["train"] == jobs["evaluate"] == AUTO_THRESHOLD
