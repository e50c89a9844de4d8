"""Shards: large collections run as one job per group of objects instead of one per object and stage.

Snakemake spends about a millisecond planning each job, and a cluster spends seconds starting
each one. With shards the top-level run plans one `shard` job per `size` objects; that job runs
the same workflow on its objects only (a nested Snakemake run on the job's own cores), so the
per-object files, their paths and the summary are exactly those of an unsharded run.
"""

from __future__ import annotations

import os
import sys

SHARD_ENV = "IMPLICIT3D_SHARD"  # the shard a nested run covers; unset in a top-level run
AUTO_THRESHOLD = 1000  # collections at least this large are sharded when `shards.size` is auto
AUTO_SIZE = 100  # objects per shard then: 10,000 objects become 100 jobs


def shard_size(setting: int | str, objects: int) -> int:
    """Objects per shard; 0 means no shards (every object's jobs are planned in this run)."""
    if setting == "auto":
        return AUTO_SIZE if objects >= AUTO_THRESHOLD else 0
    return int(setting)


def shard_index() -> int | None:
    """The shard this run covers (a shard job's nested run), or None for a top-level run."""
    value = os.environ.get(SHARD_ENV)
    return int(value) if value else None


def split_shards(objects: list[str], size: int) -> list[list[str]]:
    """Consecutive groups of `size` objects, in the given (sorted) order; none when size is 0."""
    if size <= 0:
        return []
    return [objects[i : i + size] for i in range(0, len(objects), size)]


def nested_command(
    snakefile: str, workdir: str, config_file: str, cores: int, mem_mb: int, deployment: list[str]
) -> list[str]:
    """The Snakemake command a shard job runs: this workflow, on the job's cores (the shard's objects
    are chosen by the SHARD_ENV variable)."""
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", snakefile, "--directory", workdir]
    cmd += ["--cores", str(cores), "--resources", f"mem_mb={mem_mb}", "--configfile", config_file]
    # Shards write disjoint files, so they need not lock the directory against each other; the
    # top-level run holds the lock. --keep-going: one bad object does not stop its shard mates.
    # --keep-incomplete: an object's job (object_jobs: chain) that failed keeps the files its finished
    # stages made, and its rerun redoes only the rest. --force-use-threads: that job runs in this
    # process, handing the object to workers that imported everything once (implicit3d.workers).
    cmd += ["--nolock", "--keep-going", "--rerun-incomplete", "--keep-incomplete", "--force-use-threads", "--executor", "local"]
    if deployment:
        cmd += ["--software-deployment-method", *deployment]
    return cmd
