"""Exported models against torch: every stored model of a run, exported to ONNX and to .npz, then
evaluated on its object's test points with onnxruntime and with implicit3d.portable (NumPy).

    python benchmarks/export_parity.py results/models/hashgrid/<tag> [results/models/siren/<tag> ...]

Prints, per folder, the largest |exported - torch| SDF over all objects and test points, whether
the F1s agree exactly, and the evaluation speed of the three routes on one thread.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from implicit3d.evaluation import predict_numpy  # noqa: E402
from implicit3d.export import export_npz, export_onnx  # noqa: E402
from implicit3d.io import read_json, read_points  # noqa: E402
from implicit3d.metrics import occupancy_metrics  # noqa: E402
from implicit3d.portable import load  # noqa: E402
from implicit3d.training import load_model  # noqa: E402


def samples_of(model_path: Path) -> Path:
    """results/samples/<tag>/<object>.parquet: the model's info JSON does not name its tag, so any
    samples folder holding the object whose test split matches is taken (the pipeline's own)."""
    folders = sorted((REPO / "results" / "samples").glob(f"*/{model_path.stem}.parquet"))
    if not folders:
        sys.exit(f"{model_path}: no samples of object {model_path.stem} under results/samples")
    return folders[0]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", type=Path)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    print("| models | objects | points | max \\|onnx - torch\\| | max \\|npz - torch\\| | F1 equal (onnx, npz) | torch s | onnx s | numpy s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for folder in args.folders:
        worst_onnx = worst_npz = 0.0
        same = [0, 0]
        points_total, seconds = 0, {"torch": 0.0, "onnx": 0.0, "numpy": 0.0}
        paths = sorted(folder.glob("*.pt"))
        for path in paths:
            model, ckpt = load_model(path)
            info = {**read_json(path.with_suffix(".json")), **ckpt}
            frame, _ = read_points(samples_of(path))
            test = frame[frame["split"] == "test"]
            xyz, truth = test[["x", "y", "z"]].to_numpy(np.float32), test["sdf"].to_numpy()
            with tempfile.TemporaryDirectory() as tmp:
                export_onnx(model, f"{tmp}/m.onnx")
                export_npz(model, info, f"{tmp}/m.npz")
                session = ort.InferenceSession(f"{tmp}/m.onnx", options, providers=["CPUExecutionProvider"])
                portable = load(f"{tmp}/m.npz")
                start = time.perf_counter()
                ref = predict_numpy(model, xyz)
                seconds["torch"] += time.perf_counter() - start
                start = time.perf_counter()
                via_onnx = session.run(None, {session.get_inputs()[0].name: xyz})[0].reshape(-1)
                seconds["onnx"] += time.perf_counter() - start
                start = time.perf_counter()
                via_npz = portable(xyz)
                seconds["numpy"] += time.perf_counter() - start
            worst_onnx = max(worst_onnx, float(np.abs(via_onnx - ref).max()))
            worst_npz = max(worst_npz, float(np.abs(via_npz - ref).max()))
            kinds = test["kind"].to_numpy()

            def f1s(pred, kinds=kinds, truth=truth):  # near and volume, as the summary has them
                return [occupancy_metrics(truth[kinds == k], pred[kinds == k])["f1"] for k in ("near", "volume")]

            same[0] += f1s(via_onnx) == f1s(ref)
            same[1] += f1s(via_npz) == f1s(ref)
            points_total += len(xyz)
        n = len(paths)
        print(f"| {folder} | {n} | {points_total:,} | {worst_onnx:.1e} | {worst_npz:.1e} | {same[0]}/{n}, {same[1]}/{n} | "
              f"{seconds['torch']:.1f} | {seconds['onnx']:.1f} | {seconds['numpy']:.1f} |")


if __name__ == "__main__":
    main()
