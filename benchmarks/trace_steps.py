"""What the clamped far field costs sphere tracing (not a test).

For each trained model, sphere-traces the whole sampled volume (the unit ball, view of the
figures, 256² rays) with the step capped at the loss clamp, with no cap (the raw predicted SDF),
and with smaller caps, and reports the mean SDF evaluations per ray (over the rays that enter the
ball), the hit fraction, rays out of steps, and on every `stride`-th ray per axis how the stopping
point compares with the first surface crossing of a fine fixed-step march: `overshoot` passed it
(hit a later surface, or left the ball), `no_crossing` hit where it finds none (grazing a
silhouette within eps). With `--truth`, a last row per model traces the exact ground-truth SDF of
the normalized mesh (results/normalized/<object>.ply beside the models' results/), uncapped: the
steps a true distance field would take from the same camera.

    python benchmarks/trace_steps.py results/models/hashgrid/4adc8c6a01/{0,3,9}.pt [--caps clamp,none,0.05] [--truth]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from implicit3d.spheretrace import camera_rays, first_crossing, march, model_field  # noqa: E402
from implicit3d.training import load_model  # noqa: E402

UP_Y = np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])  # the figures' default up axis (y)


def clamp_of(model_path: Path) -> float:
    info = model_path.with_suffix(".json")
    if info.is_file():
        import json

        training = json.loads(info.read_text()).get("training", {})
        return float(training.get("clamp", 0.1))
    return 0.1


def truth_field(path: Path):
    from implicit3d.groundtruth import GroundTruth
    from implicit3d.mesh import load_normalized

    mesh = path.parents[3] / "normalized" / f"{path.stem}.ply"  # results/models/<model>/<tag>/<object>.pt
    gt = GroundTruth(load_normalized(mesh))
    return lambda x: torch.from_numpy(gt.sdf(x.numpy())).float()


def measure(path: Path, caps: list[str], resolution: int, stride: int, fine: float, tol: float, max_steps: int, truth: bool) -> list[dict]:
    model, _ = load_model(path)
    learned = model_field(model)
    origins, dirs = camera_rays(resolution, np.zeros(3), (-1.02, 1.02, -1.02, 1.02), rotate=UP_Y, distance=13.0)
    grid = np.arange(resolution * resolution).reshape(resolution, resolution)[::stride, ::stride].ravel()
    sub = torch.from_numpy(grid)
    ref = first_crossing(learned, origins[sub], dirs[sub], step=fine)
    rows = []
    for cap_name in caps + (["truth"] if truth else []):
        field = truth_field(path) if cap_name == "truth" else learned
        cap = clamp_of(path) if cap_name == "clamp" else None if cap_name in ("none", "truth") else float(cap_name)
        if cap_name == "truth":
            ref = first_crossing(field, origins[sub], dirs[sub], step=fine)
        start = time.perf_counter()
        m = march(field, origins, dirs, cap=cap, max_steps=max_steps)
        seconds = time.perf_counter() - start
        hit, t, entered = m.hit[sub], m.t[sub], m.entered[sub]
        has = ~torch.isnan(ref)
        overshoot = has & ((hit & (t > ref + tol)) | (~hit & ~m.exhausted[sub]))
        no_crossing = hit & ~has
        rows.append(
            {
                "model": f"{path.parent.parent.name}/{path.stem}",
                "cap": {"clamp": f"clamp {cap}", "truth": "exact SDF, none"}.get(cap_name, cap_name),
                "mean_steps": float(m.steps[m.entered].float().mean()),
                "mean_steps_hit": float(m.steps[m.hit].float().mean()),
                "hit_fraction": float(m.hit.float().mean()),
                "exhausted": int(m.exhausted.sum()),
                "checked": int(entered.sum()),
                "crossings": int(has.sum()),
                "overshoot": int(overshoot.sum()),
                "no_crossing": int(no_crossing.sum()),
                "seconds": seconds,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", type=Path, help="trained models (.pt, with the .json beside them for the clamp)")
    parser.add_argument("--caps", default="clamp,none,0.05", help="comma-separated: clamp, none, or a number")
    parser.add_argument("--resolution", type=int, default=256)
    parser.add_argument("--stride", type=int, default=4, help="check every stride-th ray per axis against the fine march")
    parser.add_argument("--fine", type=float, default=0.002, help="step of the reference march")
    parser.add_argument("--tol", type=float, default=0.005, help="distance along the ray that counts as another surface")
    parser.add_argument("--max-steps", type=int, default=128)
    parser.add_argument("--truth", action="store_true", help="also trace the exact SDF of the normalized mesh")
    args = parser.parse_args()
    torch.set_num_threads(1)
    cols = ["model", "cap", "mean_steps", "mean_steps_hit", "hit_fraction", "exhausted", "checked", "crossings", "overshoot", "no_crossing", "seconds"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for path in args.models:
        for row in measure(path, args.caps.split(","), args.resolution, args.stride, args.fine, args.tol, args.max_steps, args.truth):
            cells = [f"{row[c]:.3f}" if isinstance(row[c], float) and c == "hit_fraction" else f"{row[c]:.2f}" if isinstance(row[c], float) else str(row[c]) for c in cols]
            print("| " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
