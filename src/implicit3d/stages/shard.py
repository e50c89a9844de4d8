"""The shard stage: every per-object step of a group of objects, as one job (implicit3d.shards)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ..errors import Implicit3DError
from ..io import atomic_path
from ..shards import SHARD_ENV, nested_command


def run_shard(
    index: int,
    objects: list[str],
    config: dict,
    marker_out: str,
    *,
    snakefile: str,
    cores: int,
    mem_mb: int,
    deployment: list[str] = (),
) -> dict:
    """Run the workflow on one shard's objects, then write the shard's marker (its objects and time)."""
    start = time.time()
    Path(marker_out).parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", suffix=".json", dir=Path(marker_out).parent, delete=False) as handle:
        json.dump(config, handle)
        config_file = handle.name
    env = {k: v for k, v in os.environ.items() if k != "SNAKEMAKE_PROFILE"}  # never the cluster profile inside a job
    env[SHARD_ENV] = str(index)
    cmd = nested_command(snakefile, os.getcwd(), config_file, cores, mem_mb, list(deployment))
    print("running:", " ".join(cmd), flush=True)
    try:
        # The nested run's own log goes to this job's log (stdout and stderr are redirected there).
        code = subprocess.call(cmd, env=env, stdout=sys.stdout, stderr=sys.stderr)
    finally:
        os.unlink(config_file)
    if code != 0:
        raise Implicit3DError(
            f"shard {index}: the run of its {len(objects)} objects failed (exit {code}); results/failed.csv names the objects"
        )
    marker = {"shard": index, "objects": objects, "seconds": round(time.time() - start, 3)}
    with atomic_path(marker_out) as tmp:
        tmp.write_text(json.dumps(marker, indent=1) + "\n")
    return marker
