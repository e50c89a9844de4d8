"""Runs one step with whatever `implicit3d` is first on the path, in its own process; prints its
result as one JSON line. The harness runs it with a baseline checkout's src/ on PYTHONPATH
(`stages.train_variant`, `stages.run_in_tree`), so it uses only entry points that revisions share:
`implicit3d.stages.train` and `evaluate`, `implicit3d.sampling.sample_splits`.

    python benchmarks/harness/runner.py train '{"points": ..., "mesh": ..., "out": ..., "name": ..., "spec": {...}, "threads": 1}'
    python benchmarks/harness/runner.py draw '{"mesh": ..., "sampling": {...}, "draw": "test", "out": ..., "threads": 1}'
    python benchmarks/harness/runner.py chain '{"mesh": ..., "sampling": {...}, "outs": {"test": ..., "pool": ...}, "threads": 1}'

A draw task with `"warm": true` first draws on a small mesh, untimed (`load_compiled`).
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
    """The train stage, then the evaluate stage on the test split: the stages' own figures, and the
    train stage's CPU seconds."""
    from implicit3d.stages import evaluate
    from implicit3d.stages import train as train_stage

    out, cpu = task["out"], cpu_seconds()
    info = train_stage(task["points"], task["mesh"], f"{out}.pt", f"{out}.json", task["spec"], threads=task["threads"], progress=False)
    cpu = cpu_seconds() - cpu  # the whole stage's (its pool draw too), every thread's
    metrics = evaluate(f"{out}.pt", f"{out}.json", task["points"], f"{out}_eval.json", task["name"], task.get("label", "model"))
    return {"info": {k: info[k] for k in INFO if k in info} | {"train_stage_cpu_s": cpu}, "metrics": metrics}


def draw(task: dict) -> dict:
    """One draw as its job makes it: the test split (`draw: "test"`, a sample job's) or the training
    pool (`"pool"`, a train job's), from the normalized mesh to the SDF, timed with the ground truth's
    preparation. `labelling` is the seconds of the SDF alone; the points and their SDF go to `out`
    (.npy, float64 columns x, y, z, sdf)."""
    set_ground_truth_threads(task["threads"])
    if task.get("warm"):
        load_compiled(task["sampling"])
    return timed_draw(task["mesh"], task["sampling"], task["draw"], task["out"])


def chain(task: dict) -> dict:
    """The test draw, then the pool draw, in this one process, as `object_jobs: chain` runs an
    object's sample and train stages: each loads the mesh and asks for its ground truth, which a
    revision that keeps it per process (`GroundTruth.shared`) prepares once, in the test draw.
    `outs`: where each draw's points and SDF go, by draw; returns each draw's `draw` result."""
    set_ground_truth_threads(task["threads"])
    if task.get("warm"):
        load_compiled(task["sampling"])
    return {kind: timed_draw(task["mesh"], task["sampling"], kind, out) for kind, out in task["outs"].items()}


def set_ground_truth_threads(threads: int) -> None:
    try:  # the ground truth's thread budget, where the revision has one
        from implicit3d.groundtruth import set_threads

        set_threads(threads)
    except ImportError:
        pass


def load_compiled(sampling: dict) -> None:
    """Both draws on a small mesh with a cavity (a sphere in a sphere), untimed: a fresh process
    loads the revision's compiled loops (numba's cache) on their first calls, which a chain worker
    does once for all its objects (up to 50), not once per object."""
    import trimesh

    from implicit3d.sampling import SPLITS, SamplingSpec, sample_splits

    small = {split: {**sampling[split], "near_count": 3000, "volume_count": 1000} for split in SPLITS}
    mesh = trimesh.util.concatenate([trimesh.creation.icosphere(2, 0.8), trimesh.creation.icosphere(1, 0.3)])
    sample_splits(mesh, SamplingSpec.from_config({**sampling, **small}), SPLITS)


def timed_draw(mesh_file: str, sampling: dict, kind: str, out: str) -> dict:
    from implicit3d.sampling import POOL_SPLITS, STORED_SPLITS, SamplingSpec, ground_truth, sample_splits

    try:  # the revision's reader of the normalize stage's mesh
        from implicit3d.meshfile import read_mesh
    except ImportError:  # revisions before implicit3d.meshfile
        from implicit3d.mesh import load_normalized as read_mesh
    mesh, spec = read_mesh(mesh_file), SamplingSpec.from_config(sampling)
    wall, cpu = time.perf_counter(), cpu_seconds()
    truth = ground_truth(mesh, spec)
    labelled = getattr(truth, "seconds", {}).get("sdf", float("nan"))  # a shared ground truth's earlier draws
    frame, _ = sample_splits(mesh, spec, STORED_SPLITS if kind == "test" else POOL_SPLITS, truth)
    result = {"wall": time.perf_counter() - wall, "cpu": cpu_seconds() - cpu, "points": len(frame),
              "labelling": getattr(truth, "seconds", {}).get("sdf", float("nan")) - labelled}  # fmt: skip
    np.save(out, frame[["x", "y", "z", "sdf"]].to_numpy(np.float64))
    return result


if __name__ == "__main__":
    command, task = sys.argv[1], json.loads(sys.argv[2])
    print(json.dumps({"train": train, "draw": draw, "chain": chain}[command](task), default=float))
