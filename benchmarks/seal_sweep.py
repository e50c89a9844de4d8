"""How the seal changes the `filled` sign: its inside fraction under each seal against the visibility test.

`filled` closes openings narrower than `sampling.seal`; the visibility test (inside when every one
of 64 fixed rays hits the mesh) agrees with what a viewer sees except in deep pockets. For each
seal: how far `filled`'s inside fraction of the volume points is from the visibility test's, then
per mesh the inside fractions, for the meshes the seal changes.

    python benchmarks/seal_sweep.py --seals 0.02,0.04,0.06,0.08,0.1,0.12,0.15 --points 100000
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from harness import Bench, parser
from harness.groundtruth import mixed_points, visibility_inside

from implicit3d.groundtruth import GroundTruth


def main(argv: list[str] | None = None) -> None:
    p = parser(__doc__)
    p.add_argument("--seals", default="0.02,0.04,0.06,0.08,0.1,0.12,0.15", help="comma-separated seals")
    p.add_argument("--points", type=int, default=100_000, help="points per mesh; the volume half is compared")
    p.add_argument("--visibility-rays", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    seals = [float(s) for s in args.seals.split(",")]
    rows = []
    with Bench(__file__, __doc__, args, argv) as b:
        for name, path in b.meshes(smoke_count=2).items():
            mesh = b.normalized(name, path)
            points, near = mixed_points(mesh, args.points, args.seed)
            volume = points[near:]
            seen = visibility_inside(mesh, volume, args.visibility_rays)
            for seal in seals:
                filled = GroundTruth(mesh, "exact", "filled", seal).sdf(volume) < 0
                rows.append({"mesh": name, "seal": seal, "visibility": 100 * seen.mean(), "filled": 100 * filled.mean(), "differ": 100 * np.mean(filled != seen)})
        runs = pd.DataFrame(rows)
        runs["gap"] = (runs["filled"] - runs["visibility"]).abs()
        per_seal = runs.groupby("seal").agg(
            mean_abs_inside_gap_points=("gap", "mean"), volume_points_labelled_differently_pct=("differ", "mean"),
            meshes_within_half_a_point=("gap", lambda g: f"{int((g <= 0.5).sum())} of {len(g)}"),
        ).reset_index().round(2)  # fmt: skip
        per_mesh = runs.pivot(index="mesh", columns="seal", values="filled")
        changed = per_mesh.max(axis=1) - per_mesh.min(axis=1) > 0.2
        per_mesh = per_mesh.rename(columns=lambda s: f"filled, seal {s:g}").rename_axis(columns=None)
        per_mesh.insert(0, "visibility", runs.groupby("mesh")["visibility"].first())
        per_mesh = per_mesh[changed]
        b.page("Ground truth: the seal of the filled sign", [
            (f"Against the {args.visibility_rays}-ray visibility test: {runs['mesh'].nunique()} meshes, {len(volume):,} volume points each", per_seal),
            ("Inside % of the volume points, on the meshes the seal changes", per_mesh.reset_index().round(2)),
        ])  # fmt: skip


if __name__ == "__main__":
    main()
