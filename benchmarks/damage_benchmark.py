"""Ground truth under damage: how many points keep their side when triangles go missing or faces are flipped.

Collections damage meshes. For each mesh (normalized by the normalize stage) this removes a share
of the faces at random (holes of one triangle each), flips a share of the rest, or both, and
compares each sign with the same sign on the intact mesh: the share of near-surface points
(surface samples plus N(0, 0.01)) and of volume points (uniform in the unit sphere) that keep their
side. `winding` is the winding number of the mesh as given, unrepaired.

    python benchmarks/damage_benchmark.py --objects 0,9,10,18,26,36 --holes 0.05 --flips 0.2
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import trimesh
from harness import Bench, parser
from harness.groundtruth import mixed_points

from implicit3d.groundtruth import GroundTruth
from implicit3d.groundtruth.winding import unrepaired_sdf

SIGNS = ("filled", "solid", "winding")


def main(argv: list[str] | None = None) -> None:
    p = parser(__doc__, objects="0,9,10,18,26,36")
    p.add_argument("--points", type=int, default=100_000, help="points per mesh, half near-surface")
    p.add_argument("--holes", type=float, default=0.05, help="share of faces removed")
    p.add_argument("--flips", type=float, default=0.2, help="share of faces flipped")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    cases = {"holes": (args.holes, 0.0), "flips": (0.0, args.flips), "holes + flips": (args.holes, args.flips)}
    rows = []
    with Bench(__file__, __doc__, args, argv) as b:
        for name, path in b.meshes(smoke_count=2).items():
            mesh = b.normalized(name, path)
            points, near = mixed_points(mesh, args.points, args.seed)
            for sign in SIGNS:
                intact = inside(mesh, sign, points)
                for case, (holes, flips) in cases.items():
                    broken = inside(damage(mesh, holes, flips, args.seed), sign, points)
                    rows.append({"mesh": name, "sign": sign, "damage": case, "near": np.mean(broken[:near] == intact[:near]),
                                 "volume": np.mean(broken[near:] == intact[near:])})  # fmt: skip
            print(f"{name}: done", file=sys.stderr, flush=True)
        runs = pd.DataFrame(rows)
        table = runs.groupby(["sign", "damage"], sort=False).apply(worst, include_groups=False).reset_index()
        b.page("Ground truth under damage", [(f"{runs['mesh'].nunique()} meshes, {args.points:,} points each; holes: {args.holes:.0%} of the faces removed, "
                                              f"flips: {args.flips:.0%} flipped, seed {args.seed}", table)])  # fmt: skip


def worst(part: pd.DataFrame) -> pd.Series:
    """Mean agreement near the surface and in the volume, and the worst mesh of each."""
    near, volume = part.set_index("mesh")["near"], part.set_index("mesh")["volume"]
    return pd.Series({"near-surface agreement, mean": round(near.mean(), 4), "min": round(near.min(), 4), "at mesh": near.idxmin(),
                      "volume agreement, mean": round(volume.mean(), 4), "volume min": round(volume.min(), 4), "volume min at mesh": volume.idxmin()})  # fmt: skip


def damage(mesh: trimesh.Trimesh, holes: float, flips: float, seed: int) -> trimesh.Trimesh:
    rng = np.random.default_rng(seed)
    faces = mesh.faces[rng.random(len(mesh.faces)) >= holes]
    flip = rng.random(len(faces)) < flips
    return trimesh.Trimesh(mesh.vertices, np.where(flip[:, None], faces[:, ::-1], faces), process=False)


def inside(mesh: trimesh.Trimesh, sign: str, points: np.ndarray) -> np.ndarray:
    if sign == "winding":
        return unrepaired_sdf(mesh, points) < 0
    return GroundTruth(mesh, "exact", sign).sdf(points) < 0


if __name__ == "__main__":
    main()
