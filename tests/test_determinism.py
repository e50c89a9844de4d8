"""Same config and seed on the CPU: bit-identical outputs and metrics from two separate runs."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import torch

from implicit3d.io import read_json, read_points

REPO = Path(__file__).resolve().parents[1]
MESH = REPO / "data" / "sample_meshes" / "joint.ply"
SAMPLING = {
    "method": "exact", "volume": "sphere", "seed": 3,
    "train": {"near_count": 3000, "near_std": [0.003, 0.01], "volume_count": 1500},
    "val": {"near_count": 300, "near_std": 0.01, "volume_count": 300},
    "test": {"near_count": 1000, "near_std": 0.01, "volume_count": 1000},
}  # fmt: skip
MODELS = {
    "hashgrid": {
        "arch": "hashgrid",
        "params": {"levels": 4, "log2_table": 10, "base_resolution": 4, "max_resolution": 32, "hidden": 16, "layers": 1},
        "training": {"steps": 40, "batch_size": 1024, "lr": 0.01, "val_every": 20, "weight_dtype": "float16"},
    },
    "mlp": {
        "arch": "mlp",
        "params": {"hidden": 32, "layers": 3, "skip": None},
        "training": {"steps": 30, "batch_size": 512, "lr": 0.001, "val_every": 10, "eikonal_weight": 0.1},
    },
}
# Wall-clock figures, the only values allowed to differ between runs.
TIMINGS = {"train_seconds", "pool_seconds", "step_ms", "infer_points_per_s", "host"}

# One full pass normalize -> sample -> train -> evaluate, in a fresh interpreter.
PIPELINE = """
import json, sys
from implicit3d.stages import evaluate, normalize, sample, train
mesh, out, sampling, models, threads = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4]), int(sys.argv[5])
normalize(mesh, f"{out}/n.ply", f"{out}/n.json")
sample(f"{out}/n.ply", f"{out}/s.parquet", sampling)
for name, spec in models.items():
    train(f"{out}/s.parquet", f"{out}/n.ply", f"{out}/{name}.pt", f"{out}/{name}.json", spec, threads=threads, device="cpu", progress=False)
    evaluate(f"{out}/{name}.pt", f"{out}/{name}.json", f"{out}/s.parquet", f"{out}/{name}.eval.json", "joint", name, threads=threads)
"""


def run_pipeline(out: Path, hash_seed: str, threads: int) -> None:
    out.mkdir()
    # A different hash seed per run: nothing may depend on set or dict-of-str ordering.
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    args = [sys.executable, "-c", PIPELINE, str(MESH), str(out), json.dumps(SAMPLING), json.dumps(MODELS), str(threads)]
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]


def without_timings(record: dict) -> dict:
    return {k: v for k, v in record.items() if k not in TIMINGS}


def test_two_runs_are_bit_identical(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    run_pipeline(a, "1", threads=1)  # the pipeline's default threads per job
    run_pipeline(b, "2", threads=1)
    assert (a / "n.ply").read_bytes() == (b / "n.ply").read_bytes()
    assert read_json(a / "n.json") == read_json(b / "n.json")
    (pa, ma), (pb, mb) = read_points(a / "s.parquet"), read_points(b / "s.parquet")
    pd.testing.assert_frame_equal(pa, pb, check_exact=True)
    assert ma == mb
    for name in MODELS:
        sa = torch.load(a / f"{name}.pt", weights_only=True)["state_dict"]
        sb = torch.load(b / f"{name}.pt", weights_only=True)["state_dict"]
        assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)
        assert without_timings(read_json(a / f"{name}.json")) == without_timings(read_json(b / f"{name}.json"))
        ea, eb = read_json(a / f"{name}.eval.json"), read_json(b / f"{name}.eval.json")
        assert without_timings(ea) == without_timings(eb)  # exact float equality, not approx
        assert ea["f1_near"] == eb["f1_near"] and ea["f1_volume"] == eb["f1_volume"]
