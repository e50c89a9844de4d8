"""What the clamped far field costs sphere tracing: SDF evaluations per ray under each step cap.

For each trained model, sphere-traces the whole sampled volume (the unit ball, the figures' view,
`--resolution`² rays) with the step capped at the loss clamp (`clamp`), with no cap (`none`, the raw
predicted SDF) and with other caps, and reports the mean SDF evaluations per ray (over the rays
that enter the ball), the hit fraction, rays out of steps, and on every `--stride`-th ray per axis
how the stopping point compares with the first surface crossing of a fine fixed-step march:
`overshoot` passed it (hit a later surface, or left the ball), `no_crossing` hit where it finds
none. With `--truth`, a last row per model traces the exact SDF of its normalized mesh
(results/normalized/<object>.ply.xz beside the models' results/), uncapped.

    python benchmarks/trace_steps.py results/models/hashgrid/<tag>/{0,4,8}.pt --caps clamp,none,0.1 --truth
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from harness import Bench, parser

from implicit3d.groundtruth import GroundTruth
from implicit3d.io import read_json
from implicit3d.meshfile import kept_mesh, read_mesh
from implicit3d.spheretrace import camera_rays, first_crossing, march, model_field, step_cap
from implicit3d.training import load_model

UP_Y = np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])  # the figures' default up axis (y)


def main(argv: list[str] | None = None) -> None:
    p = parser(__doc__, meshes=False)
    p.add_argument("models", nargs="*", type=Path, help="trained models (.pt, their .json beside them); --smoke trains one")
    p.add_argument("--caps", default="clamp,none,0.05", help="comma-separated: clamp, none, or a number")
    p.add_argument("--resolution", type=int, default=256)
    p.add_argument("--stride", type=int, default=4, help="check every stride-th ray per axis against the fine march")
    p.add_argument("--fine", type=float, default=0.002, help="step of the reference march")
    p.add_argument("--tol", type=float, default=0.005, help="distance along the ray that counts as another surface")
    p.add_argument("--max-steps", type=int, default=128)
    p.add_argument("--truth", action="store_true", help="also trace the exact SDF of the normalized mesh")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    with Bench(__file__, __doc__, args, argv) as b:
        models = {path: kept_mesh(path.parents[3] / "normalized", path.stem) for path in args.models}  # results/models/<model>/<tag>/<object>.pt
        if b.smoke:
            args.resolution = min(args.resolution, 32)
            for name, mesh in b.meshes().items():
                prepared = b.prepare(name, mesh)
                models[Path(b.train(prepared, b.variant("hashgrid", "hashgrid"))["model_path"])] = prepared.mesh
        if not models:
            p.error("no models given")
        rows = [row for path, mesh in models.items() for row in measure(path, mesh, args)]
        b.page("Sphere tracing: SDF evaluations per ray", [(f"{args.resolution}² rays per model, every {args.stride}th ray per axis checked", pd.DataFrame(rows))])


def truth_field(mesh: Path):
    truth = GroundTruth(read_mesh(mesh))
    return lambda x: torch.from_numpy(truth.sdf(x.numpy())).float()


def measure(path: Path, mesh: Path, args) -> list[dict]:
    model, _ = load_model(path)
    learned = model_field(model)
    origins, dirs = camera_rays(args.resolution, np.zeros(3), (-1.02, 1.02, -1.02, 1.02), rotate=UP_Y, distance=13.0)
    sub = torch.from_numpy(np.arange(args.resolution**2).reshape(args.resolution, args.resolution)[:: args.stride, :: args.stride].ravel())
    clamp = step_cap(read_json(path.with_suffix(".json")).get("training", {}))
    rows, learned_ref = [], first_crossing(learned, origins[sub], dirs[sub], step=args.fine)
    for cap_name in args.caps.split(",") + (["truth"] if args.truth else []):
        if cap_name == "truth":
            field, cap = truth_field(mesh), None
        else:
            field, cap = learned, clamp if cap_name == "clamp" else None if cap_name == "none" else float(cap_name)
        ref = learned_ref if field is learned else first_crossing(field, origins[sub], dirs[sub], step=args.fine)
        start = time.perf_counter()
        m = march(field, origins, dirs, cap=cap, max_steps=args.max_steps)
        seconds = time.perf_counter() - start
        hit, t = m.hit[sub], m.t[sub]
        has = ~torch.isnan(ref)
        rows.append({
            "model": f"{path.parent.parent.name}/{path.stem}", "cap": "exact SDF, none" if cap_name == "truth" else f"{cap_name} ({cap})",
            "mean steps": round(float(m.steps[m.entered].float().mean()), 2), "mean steps of hits": round(float(m.steps[m.hit].float().mean()), 2),
            "hit fraction": round(float(m.hit.float().mean()), 3), "exhausted": int(m.exhausted.sum()), "checked": int(m.entered[sub].sum()),
            "crossings": int(has.sum()), "overshoot": int((has & ((hit & (t > ref + args.tol)) | (~hit & ~m.exhausted[sub]))).sum()),
            "no_crossing": int((hit & ~has).sum()), "seconds": round(seconds, 2),
        })  # fmt: skip
    return rows


if __name__ == "__main__":
    main()
