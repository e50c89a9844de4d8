"""Ground truth under damage, on the reference meshes (not a test).

Collections damage meshes: triangles go missing and faces get flipped. For each mesh
(normalized as the pipeline does) this removes a share of the faces at random (holes of
one triangle each), flips a share of the rest, or both, and compares each sign with the
same sign on the intact mesh: the share of near-surface points (surface samples plus
N(0, 0.01)) and of volume points (uniform in the unit sphere) that keep their side.
`previous` is the previous default, the winding number of the mesh as given.

    python benchmarks/damage_benchmark.py --only 0,9,10,18,26 [--holes 0.05 --flips 0.2]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import trimesh

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "benchmarks"))

from groundtruth_benchmark import mesh_files, sample  # noqa: E402

from implicit3d.groundtruth import GroundTruth  # noqa: E402
from implicit3d.groundtruth.winding import unrepaired_sdf  # noqa: E402
from implicit3d.mesh import clean_mesh, load_mesh, normalize_mesh  # noqa: E402

SIGNS = ("filled", "solid", "previous")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--meshes", type=Path, default=REPO / ".." / "shared" / "data" / "test_task_meshes")
    parser.add_argument("--only", default="0,9,10,18,26,36", help="comma-separated mesh names")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--points", type=int, default=100_000, help="points per mesh, half near-surface")
    parser.add_argument("--holes", type=float, default=0.05, help="share of faces removed")
    parser.add_argument("--flips", type=float, default=0.2, help="share of faces flipped")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def damage(mesh: trimesh.Trimesh, holes: float, flips: float, seed: int) -> trimesh.Trimesh:
    rng = np.random.default_rng(seed)
    faces = mesh.faces[rng.random(len(mesh.faces)) >= holes]
    flip = rng.random(len(faces)) < flips
    return trimesh.Trimesh(mesh.vertices, np.where(flip[:, None], faces[:, ::-1], faces), process=False)


def inside(mesh: trimesh.Trimesh, sign: str, points: np.ndarray) -> np.ndarray:
    if sign == "previous":
        return unrepaired_sdf(mesh, points) < 0
    return GroundTruth(mesh, "exact", sign).sdf(points) < 0


def main(argv: list[str] | None = None) -> None:
    from tqdm import tqdm

    args = parse_args(argv)
    cases = {"holes": (args.holes, 0.0), "flips": (0.0, args.flips), "holes + flips": (args.holes, args.flips)}
    rows = []
    for path in tqdm(mesh_files(args.meshes, args.limit, args.only), unit="mesh", file=sys.stderr):
        mesh, _ = normalize_mesh(clean_mesh(load_mesh(path), path))
        points, near = sample(mesh, args.points, args.seed)
        for sign in SIGNS:
            intact = inside(mesh, sign, points)
            for case, (holes, flips) in cases.items():
                broken = inside(damage(mesh, holes, flips, args.seed), sign, points)
                rows.append((path.stem, sign, case, np.mean(broken[:near] == intact[:near]), np.mean(broken[near:] == intact[near:])))
    print(
        f"\n## Sign kept under damage: {len({r[0] for r in rows})} reference meshes, {args.points:,} points each; "
        f"holes: {args.holes:.0%} of the faces removed, flips: {args.flips:.0%} of the faces flipped, seed {args.seed}\n"
    )
    print("| sign | damage | near-surface agreement, mean (min, mesh) | volume agreement, mean (min, mesh) |")
    print("|---|---|---|---|")
    for sign in SIGNS:
        for case in cases:
            part = [r for r in rows if r[1] == sign and r[2] == case]
            near_values, volume_values = np.array([r[3] for r in part]), np.array([r[4] for r in part])
            print(
                f"| {sign} | {case} | {near_values.mean():.4f} ({near_values.min():.4f}, {part[int(near_values.argmin())][0]}) "
                f"| {volume_values.mean():.4f} ({volume_values.min():.4f}, {part[int(volume_values.argmin())][0]}) |"
            )


if __name__ == "__main__":
    main()
