"""Ablation of the hash-grid recipe: the defaults before and each change since, side by side.

Each object is normalized once and sampled once per near-surface noise mix, with the
default (largest) training pool; smaller pools are random subsets of it. The test split
does not depend on the training pool, so every variant is tested on the same points.
Models go through the real save/load path, so the bytes and the F1s are those of the
weights as stored (fp16, int8, or int8 coded with lzma). One thread, as in the pipeline's train jobs.

    PYTHONPATH=src python benchmarks/recipe_ablation.py --objects 36,18,26,10,0
"""

from __future__ import annotations

import argparse
import copy
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from implicit3d.evaluation import evaluate_points  # noqa: E402
from implicit3d.mesh import load_normalized  # noqa: E402
from implicit3d.models import build_model  # noqa: E402
from implicit3d.sampling import SamplingSpec, sample_all  # noqa: E402
from implicit3d.stages import normalize  # noqa: E402
from implicit3d.training import TrainConfig, load_model, save_model, train  # noqa: E402

sys.path.insert(0, str(REPO / "benchmarks"))
from named_meshes import named_meshes  # noqa: E402

OLD_STD = [0.002, 0.01, 0.03]
# name: (architecture in config/config.yaml, training noise std mix, train pool as (near, volume) points,
# hash-grid params, training), each changed from that architecture's recipe where not None or empty.
VARIANTS = {
    "2nd previous default (2^12 table, fp16, 800 steps, 300k+150k pool)": ("hashgrid_previous",
        OLD_STD, (300_000, 150_000), {"log2_table": 12}, {"steps": 800, "weight_dtype": "float16"}),
    "+ 2^13 table, fp16 (over the size budget)": ("hashgrid_previous", OLD_STD, (300_000, 150_000), {}, {"steps": 800, "weight_dtype": "float16"}),
    "+ 2^13 table, int8": ("hashgrid_previous", OLD_STD, (300_000, 150_000), {}, {"steps": 800}),
    "+ 1200 steps": ("hashgrid_previous", OLD_STD, (300_000, 150_000), {}, {}),
    "+ 1.2M+300k pool": ("hashgrid_previous", OLD_STD, None, {}, {}),
    "+ noise std mix (the previous default)": ("hashgrid_previous", None, None, {}, {}),
    "+ 8 levels, 2^14 rows at the two finest, lzma": ("hashgrid", None, None, {}, {"steps": 1200, "batch_size": 8192, "clamp": 0.1}),
    "+ batches of 4096 for 2000 steps": ("hashgrid", None, None, {}, {"steps": 2000, "clamp": 0.1}),
    "+ loss clamp 0.05": ("hashgrid", None, None, {}, {"steps": 2000}),
    "+ 2400 steps (the default)": ("hashgrid", None, None, {}, {}),
}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--meshes", type=Path, default=REPO / ".." / "shared" / "data" / "test_task_meshes")
    parser.add_argument("--objects", default="36,18,26,10,0", help="comma-separated mesh stems (default: the hardest)")
    parser.add_argument("--config", type=Path, default=REPO / "config" / "config.yaml")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    cfg = yaml.safe_load(args.config.read_text())
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.objects.split(","):
            mesh = _normalized(args.meshes, name, Path(tmp))
            frames = {}
            for variant, (arch_name, near_std, pool, params, training) in VARIANTS.items():
                arch = cfg["architectures"][arch_name]
                sampling = copy.deepcopy(cfg["sampling"])
                sampling["train"]["near_std"] = near_std or sampling["train"]["near_std"]
                key = tuple(sampling["train"]["near_std"])
                if key not in frames:  # all splits in memory: the pipeline's test points and training pool
                    frames[key] = sample_all(load_normalized(mesh), SamplingSpec.from_config(sampling))[0]
                record = _run(frames[key], pool, {**arch["params"], **params}, {**arch["training"], **training}, Path(tmp))
                rows.append({"variant": variant, "object": name, **record})
                print(f"{name:>4} {variant}: near {record['f1_near']:.4f} volume {record['f1_volume']:.4f}", file=sys.stderr)
    print(_table(pd.DataFrame(rows), list(VARIANTS)))


def _normalized(meshes: Path, name: str, tmp: Path) -> Path:
    normalize(str(named_meshes(meshes, [name])[name]), str(tmp / f"{name}.ply"), str(tmp / f"{name}.json"))
    return tmp / f"{name}.ply"


def _run(frame: pd.DataFrame, pool, params: dict, training: dict, tmp: Path) -> dict:
    part = frame[frame["split"] == "train"]
    if pool is not None:  # a random subset of the default pool, per kind
        rng = np.random.default_rng(0)
        keep = []
        for kind, count in zip(("near", "volume"), pool, strict=True):
            rows = np.flatnonzero((part["kind"] == kind).to_numpy())
            keep.append(rng.choice(rows, size=min(count, len(rows)), replace=False))
        part = part.iloc[np.sort(np.concatenate(keep))]
    val = frame[frame["split"] == "val"]
    cfg = TrainConfig.from_dict(training)
    torch.manual_seed(cfg.seed)
    model = build_model("hashgrid", **params)
    start = time.perf_counter()
    train(model, part[["x", "y", "z"]].to_numpy(), part["sdf"].to_numpy(), val[["x", "y", "z"]].to_numpy(),
          val["sdf"].to_numpy(), cfg, torch.device("cpu"), progress=False, near_mask=(part["kind"] == "near").to_numpy())
    seconds = time.perf_counter() - start
    n_bytes = save_model(tmp / "m.pt", model, "hashgrid", params, cfg.weight_dtype, cfg.weight_coding)
    stored, _ = load_model(tmp / "m.pt")
    metrics = evaluate_points(stored, frame[frame["split"] == "test"])
    return {"f1_near": metrics["f1_near"], "f1_volume": metrics["f1_volume"], "model_bytes": n_bytes, "train_s": seconds}


def _table(df: pd.DataFrame, order: list[str]) -> str:
    objects = list(dict.fromkeys(df["object"]))
    head = ["variant", "model bytes", "mean f1_near", "mean f1_volume", "median train s"] + [f"near {o}" for o in objects]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for variant in order:
        d = df[df["variant"] == variant].set_index("object")
        cells = [variant, f"{int(d['model_bytes'].max()):,}", f"{d['f1_near'].mean():.4f}", f"{d['f1_volume'].mean():.4f}",
                 f"{d['train_s'].median():.1f}"] + [f"{d.loc[o, 'f1_near']:.4f}" for o in objects]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
