"""The GPU route, measured: the default workflow on a GPU against the same run on the CPU, side by side.

Ready to run where torch sees a CUDA GPU (install the CUDA build with `make setup TORCH=cuda`);
elsewhere it says why and exits 0 without measuring anything. Each run is
`snakemake results/summary.csv --cores N` in a fresh copy of this checkout with an empty results/,
one with `device: cuda` and, unless `--no-cpu`, one with `device: cpu`, on the same objects. Per run:

- training seconds per object (median of the summary's train_seconds) and training points per
  second (steps x batch / train seconds);
- inference points per second (the evaluation's, median);
- the whole run's core-seconds (the CPU time of every process it ran: Snakemake and all its jobs)
  and GPU-seconds (the seconds the train jobs, each holding one GPU alone, spent drawing their pool
  and training: `pool_seconds` + `train_seconds` from the model JSONs), and its wall seconds.

    python benchmarks/gpu_benchmark.py                      # the built-in sample, 4 cores
    python benchmarks/gpu_benchmark.py --meshes ../shared/data/test_task_meshes --objects 0,4,8 --cores 8 --page
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from default_run import subset  # noqa: E402
from results_page import write_page  # noqa: E402
from scale import REPO, export, snakemake  # noqa: E402

sys.path.insert(0, str(REPO / "src"))
from implicit3d.summary import read_summary  # noqa: E402


def gpu_missing() -> str | None:
    """Why this benchmark cannot run here, or None."""
    import torch

    if torch.version.cuda is None:
        return f"torch {torch.__version__} is a CPU-only build (make setup TORCH=cuda installs the CUDA build)"
    if not torch.cuda.is_available():
        return f"torch {torch.__version__} (CUDA {torch.version.cuda}) sees no GPU"
    return None


def torch_gpus() -> int:
    import torch

    return torch.cuda.device_count()


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(tree: Path, meshes: Path, device: str, cores: int) -> dict:
    shutil.rmtree(tree / "results", ignore_errors=True)
    shutil.rmtree(tree / ".snakemake", ignore_errors=True)
    before = children_cpu_seconds()
    # One training per GPU at a time (train jobs declare gpu=1 on CUDA): each holds its GPU alone.
    gpus = ["--resources", f"gpu={torch_gpus()}"] if device == "cuda" else []
    wall, _ = snakemake(tree, "results/summary.csv", "--cores", str(cores), *gpus, "--config", f"meshes={meshes}", "models=[hashgrid]", f"device={device}", timeout=8 * 3600)
    cores_used = children_cpu_seconds() - before  # every finished descendant: Snakemake and its jobs
    summary = read_summary(tree / "results" / "summary.csv")
    rows = summary[(summary["model"] == "hashgrid") & (summary["object"] != "mean")]
    infos = [json.loads(p.read_text()) for p in (tree / "results" / "models").rglob("*.json")]
    trained = [i for i in infos if "train_seconds" in i]
    points = [i["steps"] * i["batch_size_used"] / i["train_seconds"] for i in trained]
    return {
        "device": device,
        "objects": len(rows),
        "devices trained on": ", ".join(sorted({str(i["device"]) for i in trained})),
        "median train s per object": float(rows["train_seconds"].median()),
        "median training points/s": float(pd.Series(points).median()),
        "median inference points/s": float(rows["infer_points_per_s"].median()),
        "wall s": wall,
        "core-seconds": cores_used,
        "GPU-seconds": sum(i["pool_seconds"] + i["train_seconds"] for i in trained) if device == "cuda" else 0.0,
        "mean f1_near": float(rows["f1_near"].mean()),
        "mean f1_volume": float(rows["f1_volume"].mean()),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--meshes", type=Path, default=REPO / "data" / "sample_meshes")
    parser.add_argument("--objects", default="", help="comma-separated mesh stems (default: every mesh in --meshes)")
    parser.add_argument("--cores", type=int, default=4)
    parser.add_argument("--no-cpu", action="store_true", help="skip the CPU run")
    parser.add_argument("--page", action="store_true", help="write docs/results/gpu_benchmark.md")
    args = parser.parse_args(argv)
    missing = gpu_missing()
    if missing:
        print(f"gpu_benchmark: skipped: {missing}")
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        meshes = subset(args.meshes.resolve(), args.objects, root)
        tree = export("WORKTREE", root / "tree")
        rows = [run(tree, meshes, "cuda", args.cores)]
        if not args.no_cpu:
            rows.append(run(tree, meshes, "cpu", args.cores))
    table = pd.DataFrame(rows)
    print(table.round(3).to_markdown(index=False))
    if args.page:
        import torch

        note = f"GPU: {torch.cuda.get_device_name(0)}, torch {torch.__version__} (CUDA {torch.version.cuda})."
        print(f"wrote {write_page('gpu_benchmark', 'The default run on a GPU and on the CPU', [('Runs', table.round(3))], f'{args.cores} cores', note)}")


if __name__ == "__main__":
    main()
