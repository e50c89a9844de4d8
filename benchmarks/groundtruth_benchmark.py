"""Ground truth on the reference meshes: the sign conventions side by side, their speed and where they differ.

For each mesh (normalized by the normalize stage) the same points are labelled by every method:
half near the surface (surface samples plus N(0, 0.01) noise), half uniform in the unit sphere.

* `filled`, `solid`: the exact method under each sign convention;
* `winding`: the winding number of the mesh as given, unrepaired (|w| > 1/2), with libigl's distance;
* `visibility`: inside when all of `--visibility-rays` fixed rays from the point hit the mesh;
* `mesh_to_sdf`: virtual depth scans, on the first `--scan-meshes` meshes and `--scan-points` points (slow; needs EGL);
* with `--methods pysdf,trimesh`, those backends too.

    python benchmarks/groundtruth_benchmark.py --scan-meshes 3
    python benchmarks/groundtruth_benchmark.py --objects 0,9,10 --points 100000
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd
from harness import Bench, parser
from harness.groundtruth import mixed_points, visibility_inside

from implicit3d.groundtruth import GroundTruth, backend_unavailable
from implicit3d.groundtruth.winding import unrepaired_sdf

CORE = ("filled", "solid", "winding", "visibility")


def main(argv: list[str] | None = None) -> None:
    p = parser(__doc__)
    p.add_argument("--points", type=int, default=250_000, help="points per mesh, half near the surface")
    p.add_argument("--visibility-rays", type=int, default=64)
    p.add_argument("--scan-meshes", type=int, default=0, help="mesh_to_sdf on the first K meshes (slow)")
    p.add_argument("--scan-points", type=int, default=20_000, help="mesh_to_sdf points per mesh (evenly spread)")
    p.add_argument("--methods", default="", help="extra backends to time and compare: pysdf, trimesh")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    args.methods = [m for m in args.methods.split(",") if m]
    for method in args.methods + (["mesh_to_sdf"] if args.scan_meshes else []):
        if method not in ("pysdf", "trimesh", "mesh_to_sdf"):
            p.error(f"unknown extra method '{method}' (choose from pysdf, trimesh)")
        if reason := backend_unavailable(method):
            sys.exit(f"error: {reason}")
    with Bench(__file__, __doc__, args, argv) as b:
        rows = [run_mesh(b.normalized(name, path), name, args, scan=i < args.scan_meshes) for i, (name, path) in enumerate(b.meshes(smoke_count=2).items())]
        b.page("Ground truth: sign conventions and speed", tables(rows, args))


def timed(function, *args) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    value = function(*args)
    return value, time.perf_counter() - start


def run_mesh(mesh, name: str, args, scan: bool) -> dict:
    """Per method: inside labels of the volume and near points, seconds, points labelled."""
    points, near = mixed_points(mesh, args.points, args.seed)
    inside, seconds, counts = {}, {}, {}
    for sign in ("filled", "solid"):
        sdf, seconds[sign] = timed(lambda s=sign: GroundTruth(mesh, "exact", s).sdf(points))
        inside[sign] = sdf < 0
    sdf, seconds["winding"] = timed(unrepaired_sdf, mesh, points)
    inside["winding"] = sdf < 0
    inside["visibility"], seconds["visibility"] = timed(visibility_inside, mesh, points, args.visibility_rays)
    for method in args.methods:
        sdf, seconds[method] = timed(lambda m=method: GroundTruth(mesh, m).sdf(points))
        inside[method] = sdf < 0
    counts = dict.fromkeys(inside, len(points))
    row = {"mesh": name, "seconds": seconds, "points": counts, "near": near,
           "inside": {m: float(v[near:].mean()) for m, v in inside.items()},
           "volume_differs": {m: float(np.mean(inside["filled"][near:] != v[near:])) for m, v in inside.items()},
           "near_differs": {m: float(np.mean(inside["filled"][:near] != v[:near])) for m, v in inside.items()}}  # fmt: skip
    if scan:  # an even subset of both halves
        half = args.scan_points // 2
        keep = np.concatenate([np.linspace(0, near - 1, half).astype(int), np.linspace(near, len(points) - 1, args.scan_points - half).astype(int)])
        sdf, seconds["mesh_to_sdf"] = timed(lambda: GroundTruth(mesh, "mesh_to_sdf").sdf(points[keep]))
        counts["mesh_to_sdf"], volume = len(keep), keep >= near
        row["inside"]["mesh_to_sdf"] = float(np.mean(sdf[volume] < 0))
        row["volume_differs"]["mesh_to_sdf"] = float(np.mean((sdf[volume] < 0) != inside["filled"][keep[volume]]))
    print(f"{name}: " + ", ".join(f"{m} {s:.2f} s" for m, s in seconds.items()), file=sys.stderr, flush=True)
    return row


def tables(rows: list[dict], args) -> list[tuple[str, pd.DataFrame]]:
    methods = list(dict.fromkeys(m for r in rows for m in r["seconds"]))
    speed = []
    for method in methods:
        have = [r for r in rows if method in r["seconds"]]
        seconds = np.array([r["seconds"][method] for r in have])
        per_point = [r["seconds"]["winding"] * r["points"][method] / (r["points"]["winding"] * r["seconds"][method]) for r in have]
        speed.append({"method": method, "meshes": len(have), "points per mesh": have[0]["points"][method],
                      "median points/s": round(float(np.median([r["points"][method] / r["seconds"][method] for r in have]))),
                      "median s/mesh": round(float(np.median(seconds)), 2), "max s/mesh": round(float(seconds.max()), 2),
                      "slowest mesh": have[int(seconds.argmax())]["mesh"], "speed vs winding": round(float(np.median(per_point)), 3)})  # fmt: skip
    inside = pd.DataFrame([{"mesh": r["mesh"], **{f"inside % {m}": 100 * r["inside"].get(m, np.nan) for m in methods},
                            "filled ≠ visibility, volume %": 100 * r["volume_differs"]["visibility"],
                            "filled ≠ winding, near %": 100 * r["near_differs"]["winding"]} for r in rows])  # fmt: skip
    mean = inside.drop(columns="mesh").mean().to_frame().T.assign(mesh="mean")
    spread = inside[[f"inside % {m}" for m in CORE]].max(axis=1) - inside[[f"inside % {m}" for m in CORE]].min(axis=1)
    inside = pd.concat([inside[spread > 0.5], mean], ignore_index=True).round(2)
    agreement = []
    for method in methods[1:]:
        have = [r for r in rows if method in r["inside"]]
        gap = np.array([abs(r["inside"]["filled"] - r["inside"][method]) for r in have]) * 100
        agreement.append({"filled against": method, "meshes": len(have), "mean abs inside % difference": round(float(gap.mean()), 2),
                          "max": round(float(gap.max()), 2), "at mesh": have[int(gap.argmax())]["mesh"],
                          "volume points labelled differently, mean %": round(100 * float(np.mean([r["volume_differs"][method] for r in have])), 2)})  # fmt: skip
    return [
        (f"Speed: {len(rows)} meshes, {args.points:,} points each, seed {args.seed}", pd.DataFrame(speed)),
        ("Inside fraction of the volume points, on the meshes where the conventions differ by over 0.5 points", inside),
        ("Agreement with filled", pd.DataFrame(agreement)),
    ]


if __name__ == "__main__":
    main()
