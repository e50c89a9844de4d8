"""The GPU route, measured: the default workflow with `device: cuda` against the same run with `device: cpu`, side by side.

Runs where torch sees a CUDA GPU (install the CUDA build with `make setup TORCH=cuda`); elsewhere it
says why in one line and exits 0 without measuring anything. Each run is
`snakemake results/summary.csv --cores N` with the default model in a fresh copy of this checkout
with an empty results/, one with `device: cuda` (one training per GPU at a time) and, unless
`--no-cpu`, one with `device: cpu`, on the same objects. Per run:

- training seconds per object (median of the summary's train_seconds) and training points per
  second (steps x batch / train seconds);
- inference points per second (the evaluation's, median);
- the whole run's core-seconds (the CPU time of every process it ran: Snakemake and all its jobs)
  and GPU-seconds (the seconds the train jobs, each holding one GPU alone, spent drawing their pool
  and training: `pool_seconds` + `train_seconds` from the model JSONs), and its wall seconds.

    python benchmarks/gpu_benchmark.py                      # reference objects 0, 4, 8, 16; 4 cores
    python benchmarks/gpu_benchmark.py --objects 0,16 --cores 8 --no-cpu
"""

from __future__ import annotations

import json
import resource
import shutil
import sys
import tempfile
from pathlib import Path

import pandas as pd
from harness import Bench, parser, working_copy
from harness.workflow import config_args, snakemake

from implicit3d.devices import INSTALL_CUDA, torch_cuda, torch_version
from implicit3d.summary import read_summary

MODEL = "hashgrid"


def gpu_missing() -> str | None:
    """Why this benchmark cannot run here, in one line, or None."""
    if torch_cuda() is None:
        return f"torch {torch_version()} is a CPU-only build; its CUDA build: {INSTALL_CUDA}"
    import torch

    if not torch.cuda.is_available():
        return f"torch {torch_version()} (CUDA {torch_cuda()}) sees no GPU"
    return None


def main(argv: list[str] | None = None) -> None:
    p = parser(__doc__, objects="0,4,8,16")
    p.add_argument("--cores", type=int, default=4)
    p.add_argument("--no-cpu", action="store_true", help="skip the run with device: cpu")
    args = p.parse_args(argv)
    if missing := gpu_missing():
        print(f"gpu_benchmark: skipped: {missing}")
        return
    with Bench(__file__, __doc__, args, argv) as b, tempfile.TemporaryDirectory() as tmp:
        meshes = b.mesh_folder(Path(tmp) / "meshes")
        tree = working_copy(Path(tmp) / "this")
        rows = [run(b, tree, meshes, device, args.cores) for device in ("cuda", "cpu")[: 1 if args.no_cpu else 2]]
        b.page("The default run on a GPU and on the CPU", [(f"{args.cores} cores", pd.DataFrame(rows).round(3))])


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(b: Bench, tree: Path, meshes: Path, device: str, cores: int) -> dict:
    import torch

    for folder in ("results", ".snakemake"):
        shutil.rmtree(tree / folder, ignore_errors=True)
    # Train jobs declare gpu=1 on CUDA: one training per GPU at a time, each holding its GPU alone.
    gpus = ["--resources", f"gpu={torch.cuda.device_count()}"] if device == "cuda" else []
    before = children_cpu_seconds()
    wall, _ = snakemake(tree, "results/summary.csv", "--cores", str(cores), *gpus, *config_args(tree, b.workflow_changes(tree)),
                        "--config", f"meshes={meshes}", f"models=[{MODEL}]", f"device={device}", timeout=8 * 3600)  # fmt: skip
    cores_used = children_cpu_seconds() - before  # every finished descendant: Snakemake and its jobs
    summary = read_summary(tree / "results" / "summary.csv")
    rows = summary[(summary["model"] == MODEL) & (summary["object"] != "mean")]
    trained = [info for path in (tree / "results" / "models").rglob("*.json") if "train_seconds" in (info := json.loads(path.read_text()))]
    print(f"device {device}: {wall:.0f} s", file=sys.stderr, flush=True)
    return {
        "device": device,
        "objects": len(rows),
        "trained on": ", ".join(sorted({str(info["device"]) for info in trained})),
        "median train s per object": float(rows["train_seconds"].median()),
        "median training points/s": float(pd.Series([i["steps"] * i["batch_size_used"] / i["train_seconds"] for i in trained]).median()),
        "median inference points/s": float(rows["infer_points_per_s"].median()),
        "wall s": wall,
        "core-seconds": cores_used,
        "GPU-seconds": sum(i["pool_seconds"] + i["train_seconds"] for i in trained) if device == "cuda" else 0.0,
        "mean f1_near": float(rows["f1_near"].mean()),
        "mean f1_volume": float(rows["f1_volume"].mean()),
    }


if __name__ == "__main__":
    main()
