"""Where a hash-grid training step's time went: the default's step on one thread, with each change to
the step's code undone in turn, side by side on the same training pool.

- `tensor path, column-major pool, Adam`: the code before the compiled kernels. The pool's points
  come from a DataFrame column-major, so a batch's rows are gathered from three strided columns;
  the encoding is `HashGridSDF.indices` plus `_GridInterp`; Adam runs per tensor (foreach).
- `+ row-major pool`: the points copied row-major (`training.float_tensor` does that now).
- `+ fused Adam`: one pass over each tensor.
- `+ compiled kernels (this code)`: `hashgrid_kernel`, the default on a CPU.

Each variant trains the default's architecture and recipe for `--steps` steps from the same
initial weights, in alternating order over `--repeats` rounds; prints the median step time.

    python benchmarks/step_cost.py                  # object 16, 400 steps, 3 rounds
    python benchmarks/step_cost.py --object 0 --steps 600
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from named_meshes import REPO, named_meshes  # noqa: E402

from implicit3d import hashgrid_kernel, training  # noqa: E402
from implicit3d.io import read_points_metadata  # noqa: E402
from implicit3d.mesh import load_normalized  # noqa: E402
from implicit3d.models import build_model  # noqa: E402
from implicit3d.sampling import training_pool  # noqa: E402
from implicit3d.stages import normalize, sample  # noqa: E402

VARIANTS = {  # name: (compiled kernels, row-major pool, fused Adam)
    "tensor path, column-major pool, Adam": (False, False, False),
    "+ row-major pool": (False, True, False),
    "+ fused Adam": (False, True, True),
    "+ compiled kernels (this code)": (True, True, True),
}


@contextmanager
def variant(kernels: bool, row_major: bool, fused: bool):
    """The step's code with the changes the flags leave out undone."""
    saved = hashgrid_kernel.usable, training.float_tensor, torch.optim.Adam
    if not kernels:
        hashgrid_kernel.usable = lambda table, x: False
    if not row_major:  # as before: np.array keeps a DataFrame's column-major layout
        training.float_tensor = lambda values, device="cpu": torch.from_numpy(np.array(values, dtype=np.float32)).to(device)
    if not fused:  # Adam as constructed before: no `fused` argument
        torch.optim.Adam = lambda *a, fused=None, **k: saved[2](*a, **k)
    try:
        yield
    finally:
        hashgrid_kernel.usable, training.float_tensor, torch.optim.Adam = saved


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--meshes", type=Path, default=REPO / ".." / "shared" / "data" / "test_task_meshes")
    parser.add_argument("--object", default="16")
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    arch = cfg["architectures"]["hashgrid"]
    source = named_meshes(args.meshes, [args.object])[args.object]
    with tempfile.TemporaryDirectory() as tmp:
        mesh, points = Path(tmp) / "mesh.ply", Path(tmp) / "points.parquet"
        normalize(str(source), str(mesh), str(Path(tmp) / "mesh.json"))
        sample(str(mesh), str(points), cfg["sampling"])
        frame, _ = training_pool(load_normalized(str(mesh)), read_points_metadata(str(points)))
    train_part, val_part = frame[frame["split"] == "train"], frame[frame["split"] == "val"]
    xyz, sdf = train_part[["x", "y", "z"]].to_numpy(), train_part["sdf"].to_numpy()  # column-major, as the train stage gets them
    val_xyz, val_sdf = val_part[["x", "y", "z"]].to_numpy(), val_part["sdf"].to_numpy()
    near = (train_part["kind"] == "near").to_numpy()
    steps = {"steps": args.steps, "val_every": args.steps}
    cfg_train = training.TrainConfig.from_dict({**arch["training"], **steps})
    times: dict[str, list[float]] = {name: [] for name in VARIANTS}
    names = list(VARIANTS)
    for round_ in range(args.repeats):
        for name in names if round_ % 2 == 0 else names[::-1]:
            with variant(*VARIANTS[name]):
                torch.manual_seed(0)
                model = build_model("hashgrid", **arch["params"])
                result = training.train(model, xyz, sdf, val_xyz, val_sdf, cfg_train, torch.device("cpu"), progress=False, near_mask=near)
            times[name].append(result.step_ms)
            print(f"{name}: {result.step_ms:.2f} ms", file=sys.stderr, flush=True)
    first = statistics.median(times[names[0]])
    table = pd.DataFrame(
        [{"variant": n, "median step ms": round(statistics.median(t), 2), "ratio": round(statistics.median(t) / first, 2)} for n, t in times.items()]
    )
    print(f"object {args.object}, {args.steps} steps of {arch['training']['batch_size']} points, {args.repeats} rounds, one thread\n")
    print(table.to_markdown(index=False))


if __name__ == "__main__":
    main()
