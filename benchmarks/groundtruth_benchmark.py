"""Ground truth on the reference meshes: the sign conventions side by side (not a test).

For each mesh (loaded, cleaned and normalized as the pipeline does) the same points are
labelled by every method: half near the surface (area-weighted surface samples plus
N(0, 0.01) noise), half uniform in the unit sphere, fixed seed.

* `filled`, `solid`: the exact method under each sign convention (this project);
* `previous`: the previous default, the winding number of the mesh as given (|w| > 1/2);
* `visibility`: a point is inside when all of N rays from it hit the mesh (default 64,
  evenly spread, fixed): the test the field's virtual-scan tools approximate;
* `mesh_to_sdf`: the original assignment's tool (virtual depth scans), on the first
  --scan-meshes meshes and --scan-points points only (slow; needs EGL);
* optionally other backends (`--methods pysdf,trimesh`).

It prints the speed of each (points per second, preparation included), the inside
fraction of the volume points per mesh under each, where `filled` and the others
disagree, and the meshes whose inside changed most against the previous default.

    python benchmarks/groundtruth_benchmark.py [--limit 10] [--scan-meshes 10]

With --seals it instead measures how the choice of `seal` changes `filled` against the
visibility test, for each seal listed (how the default was chosen):

    python benchmarks/groundtruth_benchmark.py --seals 0.02,0.04,0.06,0.08,0.1,0.12
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from implicit3d.groundtruth import GroundTruth, backend_unavailable  # noqa: E402
from implicit3d.groundtruth.rays import Rays, sphere_directions  # noqa: E402
from implicit3d.groundtruth.winding import unrepaired_sdf  # noqa: E402
from implicit3d.mesh import MESH_EXTENSIONS, clean_mesh, load_mesh, normalize_mesh  # noqa: E402
from implicit3d.sampling import sample_near_surface, sample_volume  # noqa: E402

NEAR_STD = 0.01
CORE = ("filled", "solid", "previous", "visibility")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--meshes", type=Path, default=REPO / ".." / "shared" / "data" / "test_task_meshes")
    parser.add_argument("--points", type=int, default=250_000, help="points per mesh, half near the surface")
    parser.add_argument("--limit", type=int, default=None, help="only the first K meshes")
    parser.add_argument("--only", default=None, help="comma-separated mesh names (file stems)")
    parser.add_argument("--visibility-rays", type=int, default=64)
    parser.add_argument("--scan-meshes", type=int, default=0, help="mesh_to_sdf on the first K meshes (slow)")
    parser.add_argument("--scan-points", type=int, default=20_000, help="mesh_to_sdf points per mesh (evenly spread)")
    parser.add_argument("--methods", default="", help="extra backends to time and compare: pysdf, trimesh")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seals", default="", help="comma-separated seals: compare filled under each with the visibility test")
    args = parser.parse_args(argv)
    args.seals = [float(s) for s in args.seals.split(",") if s]
    args.methods = [m for m in args.methods.split(",") if m]
    for method in args.methods:
        if method not in ("pysdf", "trimesh"):
            parser.error(f"unknown extra method '{method}' (choose from pysdf, trimesh)")
    return args


def mesh_files(folder: Path, limit: int | None, only: str | None) -> list[Path]:
    if not folder.is_dir():
        raise SystemExit(f"error: mesh folder {folder} not found (pass --meshes)")
    files = [p for p in folder.iterdir() if p.suffix.lower() in MESH_EXTENSIONS]
    files.sort(key=lambda p: (0, int(p.stem), "") if p.stem.isdigit() else (1, 0, p.stem))
    if only:
        wanted = only.split(",")
        files = [p for p in files if p.stem in wanted]
    if not files:
        raise SystemExit(f"error: no mesh files in {folder}")
    return files[:limit]


def sample(mesh, count: int, seed: int) -> tuple[np.ndarray, int]:
    """Near-surface points first, then volume points; returns the points and the near count."""
    rng = np.random.default_rng(seed)
    near = count // 2
    points = np.vstack([sample_near_surface(rng, mesh, near, NEAR_STD), sample_volume(rng, count - near, "sphere")])
    return np.ascontiguousarray(points, dtype=np.float64), near


def visibility_inside(mesh, points: np.ndarray, rays: int) -> np.ndarray:
    """Inside when every one of `rays` fixed directions hits the mesh."""
    caster = Rays(mesh.vertices, mesh.faces)
    inside = np.ones(len(points), dtype=bool)
    for direction in sphere_directions(rays):
        todo = np.flatnonzero(inside)
        if not len(todo):
            break
        inside[todo[caster.escapes(points[todo], direction)]] = False
    return inside


def timed(function, *args) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    value = function(*args)
    return value, time.perf_counter() - start


def run_mesh(path: Path, args: argparse.Namespace, scan: bool) -> dict:
    mesh, _ = normalize_mesh(clean_mesh(load_mesh(path), path))
    points, near = sample(mesh, args.points, args.seed)
    volume = slice(near, None)
    row = {"mesh": path.stem, "faces": len(mesh.faces), "inside": {}, "seconds": {}, "points": {}}
    outputs = {}
    for sign in ("filled", "solid"):
        truth_sdf, seconds = timed(lambda s=sign: GroundTruth(mesh, "exact", s).sdf(points))
        outputs[sign], row["seconds"][sign] = truth_sdf < 0, seconds
    previous, row["seconds"]["previous"] = timed(unrepaired_sdf, mesh, points)
    outputs["previous"] = previous < 0
    outputs["visibility"], row["seconds"]["visibility"] = timed(visibility_inside, mesh, points, args.visibility_rays)
    for name in CORE:
        row["points"][name] = len(points)
    for method in args.methods:
        sdf, row["seconds"][method] = timed(lambda m=method: GroundTruth(mesh, m).sdf(points))
        outputs[method] = sdf < 0
        row["points"][method] = len(points)
    for name, inside in outputs.items():
        row["inside"][name] = float(np.mean(inside[volume]))
    row["filled_vs"] = {name: float(np.mean(outputs["filled"][volume] != inside[volume])) for name, inside in outputs.items() if name != "filled"}
    row["near_filled_vs"] = {name: float(np.mean(outputs["filled"][:near] != inside[:near])) for name, inside in outputs.items() if name != "filled"}
    if scan:
        keep = np.concatenate([np.linspace(0, near - 1, args.scan_points // 2).astype(int), np.linspace(near, len(points) - 1, args.scan_points - args.scan_points // 2).astype(int)])
        sdf, row["seconds"]["mesh_to_sdf"] = timed(lambda: GroundTruth(mesh, "mesh_to_sdf").sdf(points[keep]))
        row["points"]["mesh_to_sdf"] = len(keep)
        scan_volume = keep >= near
        row["inside"]["mesh_to_sdf"] = float(np.mean(sdf[scan_volume] < 0))
        row["filled_vs"]["mesh_to_sdf"] = float(np.mean((sdf[scan_volume] < 0) != outputs["filled"][keep[scan_volume]]))
    return row


def pct(value: float) -> str:
    return f"{100.0 * value:.2f}"


def speed_table(rows: list[dict]) -> list[str]:
    names = [n for n in rows[0]["seconds"]] + [n for n in ("mesh_to_sdf",) if any(n in r["seconds"] for r in rows) and n not in rows[0]["seconds"]]
    lines = [
        "| method | meshes | points/s (median) | s/mesh median | s/mesh max (mesh) | speed vs previous (median of per-mesh ratios) |",
        "|---|---|---|---|---|---|",
    ]
    for name in names:
        have = [r for r in rows if name in r["seconds"]]
        seconds = np.array([r["seconds"][name] for r in have])
        rate = np.array([r["points"][name] for r in have]) / seconds
        worst = have[int(seconds.argmax())]["mesh"]
        # Per point: a method run on fewer points is compared at equal work.
        ratio = np.median([r["seconds"]["previous"] * r["points"][name] / (r["points"]["previous"] * r["seconds"][name]) for r in have])
        points = "" if have[0]["points"][name] == have[0]["points"]["previous"] else f" ({have[0]['points'][name]:,} pts)"
        lines.append(
            f"| {name}{points} | {len(have)} | {np.median(rate):,.0f} | {np.median(seconds):.2f} | {seconds.max():.2f} ({worst}) | {ratio:.3g}x |"
        )
    return lines


def inside_table(rows: list[dict]) -> list[str]:
    names = ["previous", "filled", "solid", "visibility"] + [n for n in rows[0]["inside"] if n not in CORE] + (
        ["mesh_to_sdf"] if any("mesh_to_sdf" in r["inside"] for r in rows) and "mesh_to_sdf" not in rows[0]["inside"] else []
    )
    lines = [
        "| mesh | " + " | ".join(f"inside % {n}" for n in names) + " | filled ≠ visibility, volume % | filled ≠ previous, near % |",
        "|---|" + "---|" * (len(names) + 2),
    ]
    for r in rows:
        cells = [pct(r["inside"][n]) if n in r["inside"] else "" for n in names]
        lines.append(f"| {r['mesh']} | " + " | ".join(cells) + f" | {pct(r['filled_vs']['visibility'])} | {pct(r['near_filled_vs']['previous'])} |")
    mean = [pct(np.mean([r["inside"][n] for r in rows if n in r["inside"]])) for n in names]
    lines.append("| mean | " + " | ".join(mean) + f" | {pct(np.mean([r['filled_vs']['visibility'] for r in rows]))} | {pct(np.mean([r['near_filled_vs']['previous'] for r in rows]))} |")
    return lines


def summary_lines(rows: list[dict]) -> list[str]:
    lines = []
    for name in [n for n in rows[0]["filled_vs"]] + (["mesh_to_sdf"] if any("mesh_to_sdf" in r["filled_vs"] for r in rows) and "mesh_to_sdf" not in rows[0]["filled_vs"] else []):
        have = [r for r in rows if name in r["filled_vs"]]
        diff = np.array([abs(r["inside"]["filled"] - r["inside"][name]) for r in have])
        disagree = np.array([r["filled_vs"][name] for r in have])
        lines.append(
            f"- filled vs {name} ({len(have)} meshes): inside fraction differs by {pct(diff.mean())} points on average "
            f"(max {pct(diff.max())}, mesh {have[int(diff.argmax())]['mesh']}); volume points labelled differently: mean {pct(disagree.mean())} %"
        )
    change = sorted(rows, key=lambda r: abs(r["inside"]["filled"] - r["inside"]["previous"]), reverse=True)[:5]
    lines.append(
        "- largest change of the inside fraction, previous -> filled: "
        + ", ".join(f"{r['mesh']} ({pct(r['inside']['previous'])} -> {pct(r['inside']['filled'])} %)" for r in change)
    )
    return lines


def seal_sweep(files: list[Path], args: argparse.Namespace) -> list[str]:
    """Per seal: how far filled's inside fraction of the volume points is from the visibility test's."""
    from tqdm import tqdm

    rows = []
    for path in tqdm(files, unit="mesh", file=sys.stderr):
        mesh, _ = normalize_mesh(clean_mesh(load_mesh(path), path))
        points, near = sample(mesh, args.points, args.seed)
        volume = points[near:]
        seen = visibility_inside(mesh, volume, args.visibility_rays)
        filled = {seal: GroundTruth(mesh, "exact", "filled", seal).sdf(volume) < 0 for seal in args.seals}
        rows.append((path.stem, float(seen.mean()), {s: (float(f.mean()), float(np.mean(f != seen))) for s, f in filled.items()}))
    lines = [
        "| seal | mean abs(inside filled - inside visibility), points | volume points labelled differently, mean % | meshes within 0.5 points |",
        "|---|---|---|---|",
    ]
    for seal in args.seals:
        gap = np.array([abs(r[2][seal][0] - r[1]) for r in rows])
        differ = np.array([r[2][seal][1] for r in rows])
        lines.append(f"| {seal:g} | {pct(gap.mean())} | {pct(differ.mean())} | {int(np.sum(gap <= 0.005))} of {len(rows)} |")
    lines += ["", "| mesh | inside % visibility | " + " | ".join(f"filled, seal {s:g}" for s in args.seals) + " |", "|---|---|" + "---|" * len(args.seals)]
    for name, seen, per_seal in rows:
        values = [per_seal[s][0] for s in args.seals]
        if max(values) - min(values) > 0.002:  # only the meshes the seal changes
            lines.append(f"| {name} | {pct(seen)} | " + " | ".join(pct(v) for v in values) + " |")
    return lines


def main(argv: list[str] | None = None) -> None:
    from tqdm import tqdm

    args = parse_args(argv)
    files = mesh_files(args.meshes, args.limit, args.only)
    if args.seals:
        print(f"\n## filled under each seal vs a {args.visibility_rays}-ray visibility test: {len(files)} meshes, {args.points // 2:,} volume points each\n")
        print("\n".join(seal_sweep(files, args)))
        return
    for method in args.methods + (["mesh_to_sdf"] if args.scan_meshes else []):
        reason = backend_unavailable(method)
        if reason:
            raise SystemExit(f"error: {reason}")
    load_before = os.getloadavg()[0]
    rows = []
    for index, path in enumerate(tqdm(files, unit="mesh", file=sys.stderr)):
        rows.append(run_mesh(path, args, scan=index < args.scan_meshes))
    print(
        f"\n## Ground truth: {len(rows)} meshes from {args.meshes.resolve()}, {args.points:,} points each "
        f"(half near-surface N(0, {NEAR_STD}), half uniform in the unit sphere), seed {args.seed}, "
        f"{os.cpu_count()} CPUs, load average before/after {load_before:.1f}/{os.getloadavg()[0]:.1f}\n"
    )
    for lines in (speed_table(rows), [""], inside_table(rows), [""], summary_lines(rows)):
        print("\n".join(lines))


if __name__ == "__main__":
    main()
