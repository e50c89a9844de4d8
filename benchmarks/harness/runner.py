"""Runs one step with whatever `implicit3d` is first on the path, in its own process; prints its
result as one JSON line. The harness runs it with a baseline checkout's src/ on PYTHONPATH
(`stages.train_variant`, `stages.draw_pool`), so it uses only entry points that revisions share:
`implicit3d.stages.train` and `evaluate`, `implicit3d.sampling.training_pool`.

    python benchmarks/harness/runner.py train '{"points": ..., "mesh": ..., "out": ..., "name": ..., "spec": {...}, "threads": 1}'
    python benchmarks/harness/runner.py pool '{"points": ..., "mesh": ..., "out": ..., "threads": 1}'
"""

from __future__ import annotations

import json
import resource
import sys
import time

import numpy as np

INFO = ("train_seconds", "step_ms", "steps", "model_bytes", "pool_seconds")


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def train(task: dict) -> dict:
    """The train stage, then the evaluate stage on the test split: the stages' own figures."""
    from implicit3d.stages import evaluate
    from implicit3d.stages import train as train_stage

    out = task["out"]
    info = train_stage(task["points"], task["mesh"], f"{out}.pt", f"{out}.json", task["spec"], threads=task["threads"], progress=False)
    metrics = evaluate(f"{out}.pt", f"{out}.json", task["points"], f"{out}_eval.json", task["name"], task.get("label", "model"))
    return {"info": {k: info[k] for k in INFO if k in info}, "metrics": metrics}


def pool(task: dict) -> dict:
    """Draw the training pool a samples file implies, as a train job does first; its SDF goes to `out` (.npy)."""
    from implicit3d.io import read_points_metadata
    from implicit3d.mesh import load_normalized
    from implicit3d.sampling import training_pool

    try:  # the ground truth's thread budget, where the revision has one
        from implicit3d.groundtruth import set_threads

        set_threads(task["threads"])
    except ImportError:
        pass
    meta, mesh = read_points_metadata(task["points"]), load_normalized(task["mesh"])
    wall, cpu = time.perf_counter(), cpu_seconds()
    frame, _ = training_pool(mesh, meta, source=task["mesh"])
    result = {"wall": time.perf_counter() - wall, "cpu": cpu_seconds() - cpu, "points": len(frame)}
    np.save(task["out"], frame["sdf"].to_numpy())
    return result


if __name__ == "__main__":
    command, task = sys.argv[1], json.loads(sys.argv[2])
    print(json.dumps({"train": train, "pool": pool}[command](task), default=float))
