"""Exported models against torch: each stored model exported to ONNX and to .npz, then evaluated on its object's test points with onnxruntime and with implicit3d.portable (NumPy).

Per folder of models (results/models/<model>/<tag>): the largest |exported - torch| SDF over all
objects and test points, on how many objects the F1s are exactly equal, and the seconds of the
three routes on one thread. A model's test points are its object's samples file in the same
results/ (results/samples/<tag>/<object>.parquet).

    python benchmarks/export_parity.py results/models/hashgrid/<tag> results/models/siren/<tag>
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pandas as pd
import torch
from harness import Bench, parser

from implicit3d.evaluation import predict_numpy
from implicit3d.export import export_npz, export_onnx
from implicit3d.io import read_json, read_points
from implicit3d.metrics import occupancy_metrics
from implicit3d.portable import load
from implicit3d.training import load_model


def main(argv: list[str] | None = None) -> None:
    p = parser(__doc__, meshes=False)
    p.add_argument("folders", nargs="*", type=Path, help="folders of trained models; --smoke trains a hash grid and a SIREN")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    with Bench(__file__, __doc__, args, argv) as b:
        groups = {str(folder): [(path, samples_of(path)) for path in sorted(folder.glob("*.pt"))] for folder in args.folders}
        if b.smoke:
            for name, mesh in b.meshes().items():
                prepared = b.prepare(name, mesh)
                for arch in ("hashgrid", "siren"):
                    groups.setdefault(arch, []).append((Path(b.train(prepared, b.variant(arch, arch))["model_path"]), prepared.points))
        if not groups:
            p.error("no model folders given")
        b.page("Exported models against torch", [("", pd.DataFrame([parity(label, pairs) for label, pairs in groups.items()]))])


def samples_of(model: Path) -> Path:
    """results/samples/<tag>/<object>.parquet beside results/models/<model>/<tag>/<object>.pt: the
    model's info does not name the samples' tag, so the first samples folder holding the object is taken."""
    found = sorted((model.parents[3] / "samples").glob(f"*/{model.stem}.parquet"))
    if not found:
        sys.exit(f"error: {model}: no samples of object {model.stem} under {model.parents[3] / 'samples'}")
    return found[0]


def predictions(model, session, portable, xyz: np.ndarray, seconds: dict) -> dict[str, np.ndarray]:
    """The SDF at `xyz` by torch, onnxruntime and NumPy; each route's seconds are added to `seconds`."""
    routes = {"torch": lambda: predict_numpy(model, xyz), "onnx": lambda: session.run(None, {session.get_inputs()[0].name: xyz})[0].reshape(-1),
              "numpy": lambda: portable(xyz)}  # fmt: skip
    sdf = {}
    for route, run in routes.items():
        start = time.perf_counter()
        sdf[route] = run()
        seconds[route] += time.perf_counter() - start
    return sdf


def parity(label: str, pairs: list[tuple[Path, Path]]) -> dict:
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    worst = {"onnx": 0.0, "npz": 0.0}
    same = {"onnx": 0, "npz": 0}
    seconds = {"torch": 0.0, "onnx": 0.0, "numpy": 0.0}
    points = 0
    for path, samples in pairs:
        model, ckpt = load_model(path)
        frame, _ = read_points(samples)
        test = frame[frame["split"] == "test"]
        xyz, truth, kinds = test[["x", "y", "z"]].to_numpy(np.float32), test["sdf"].to_numpy(), test["kind"].to_numpy()
        with tempfile.TemporaryDirectory() as tmp:
            export_onnx(model, f"{tmp}/m.onnx")
            export_npz(model, {**read_json(path.with_suffix(".json")), **ckpt}, f"{tmp}/m.npz")
            session, portable = ort.InferenceSession(f"{tmp}/m.onnx", options, providers=["CPUExecutionProvider"]), load(f"{tmp}/m.npz")
            sdf = predictions(model, session, portable, xyz, seconds)

        def f1s(pred, kinds=kinds, truth=truth):  # near and volume, as the summary has them
            return [occupancy_metrics(truth[kinds == k], pred[kinds == k])["f1"] for k in ("near", "volume")]

        for exported, route in (("onnx", "onnx"), ("npz", "numpy")):
            worst[exported] = max(worst[exported], float(np.abs(sdf[route] - sdf["torch"]).max()))
            same[exported] += f1s(sdf[route]) == f1s(sdf["torch"])
        points += len(xyz)
    n = len(pairs)
    return {"models": label, "objects": n, "points": points, "max abs onnx - torch": f"{worst['onnx']:.1e}", "max abs npz - torch": f"{worst['npz']:.1e}",
            "F1 equal, onnx": f"{same['onnx']}/{n}", "F1 equal, npz": f"{same['npz']}/{n}", **{f"{route} s": round(s, 2) for route, s in seconds.items()}}  # fmt: skip


if __name__ == "__main__":
    main()
