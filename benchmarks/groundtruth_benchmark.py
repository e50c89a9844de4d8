"""Benchmark the ground-truth SDF backends against the robust default (not a test).

For each mesh: load, clean and normalize as the pipeline does, sample points
(half area-weighted surface samples + N(0, 0.01) noise, half uniform in the unit
sphere, fixed seed), run every backend and compare it with `winding`: sign
disagreement on near-surface and volume points, |distance| differences, speed.
`igl_plain` is the previous default (igl.signed_distance with fast-winding-number
sign), timed in the same run for the speed comparison.

    PYTHONPATH=src python benchmarks/groundtruth_benchmark.py --methods winding,trimesh,pysdf --limit 10
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from implicit3d import groundtruth as gt  # noqa: E402
from implicit3d.mesh import MESH_EXTENSIONS, clean_mesh, load_mesh, normalize_mesh  # noqa: E402
from implicit3d.sampling import sample_near_surface, sample_volume  # noqa: E402

PLAIN = "igl_plain"
NEAR_STD = 0.01
SLOW = ("trimesh", "mesh_to_sdf")  # pure-Python proximity / 100 renders + KD-tree of ~5M scan points


@dataclass
class Run:
    """One backend on one mesh."""

    seconds: float
    cpu: float
    sdf: np.ndarray
    counts: dict = field(default_factory=dict)
    points: int = 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--meshes", type=Path, default=REPO / ".." / "shared" / "data" / "test_task_meshes")
    parser.add_argument("--points", type=int, default=250_000, help="points per mesh, half near-surface")
    choices = ", ".join(gt.METHODS + (PLAIN,))
    parser.add_argument("--methods", default=",".join(gt.METHODS + (PLAIN,)), help=f"comma-separated subset of {choices}")
    parser.add_argument("--limit", type=int, default=None, help="only the first K meshes")
    parser.add_argument(
        "--slow-points", type=int, default=20_000, help=f"{' and '.join(SLOW)} run on this evenly spread subset"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=1, help="time winding this many times per mesh (median)")
    args = parser.parse_args(argv)
    args.methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in args.methods if m not in gt.METHODS + (PLAIN,)]
    if unknown:
        parser.error(f"unknown method(s) {', '.join(unknown)} (choose from {', '.join(gt.METHODS + (PLAIN,))})")
    if gt.DEFAULT_METHOD not in args.methods:
        args.methods.insert(0, gt.DEFAULT_METHOD)  # the reference everything is compared with
    return args


def mesh_files(folder: Path, limit: int | None) -> list[Path]:
    if not folder.is_dir():
        raise SystemExit(f"error: mesh folder {folder} not found (pass --meshes)")
    files = [p for p in folder.iterdir() if p.suffix.lower() in MESH_EXTENSIONS]
    files.sort(key=lambda p: (0, int(p.stem), "") if p.stem.isdigit() else (1, 0, p.stem))
    if not files:
        raise SystemExit(f"error: no mesh files in {folder}")
    return files[:limit]


def sample(mesh, count: int, seed: int) -> tuple[np.ndarray, int]:
    """Near-surface points first, then volume points; returns the points and the near count."""
    rng = np.random.default_rng(seed)
    near = count // 2
    points = np.vstack([sample_near_surface(rng, mesh, near, NEAR_STD), sample_volume(rng, count - near, "sphere")])
    return np.ascontiguousarray(points, dtype=np.float64), near


def subset(count: int, near: int, keep: int) -> np.ndarray:
    """Evenly spaced indices, half from the near-surface block and half from the volume block."""
    if keep >= count:
        return np.arange(count)
    near_part = np.linspace(0, near - 1, keep // 2).astype(int)
    return np.concatenate([near_part, np.linspace(near, count - 1, keep - keep // 2).astype(int)])


def run_method(method: str, mesh, points: np.ndarray, repeat: int) -> Run:
    times, cpus = [], []
    for _ in range(repeat if method == gt.DEFAULT_METHOD else 1):
        start, cpu = time.perf_counter(), time.process_time()
        if method == PLAIN:
            sdf = gt.igl_signed_distance(mesh, points)
        else:
            sdf = gt.compute_sdf(mesh, points, method)
        times.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    counts = dict(gt._winding.last_counts) if method == gt.DEFAULT_METHOD else {}
    return Run(float(np.median(times)), float(np.median(cpus)), sdf, counts)


def compare(run: Run, reference: Run, near: int, limit: float) -> dict:
    """Disagreement of `run` with the reference on one mesh; implausible values are counted apart."""
    ok = np.isfinite(run.sdf) & (np.abs(run.sdf) <= limit)
    flip = (run.sdf < 0) != (reference.sdf < 0)
    is_near = np.arange(len(run.sdf)) < near
    diff = np.abs(np.abs(run.sdf[ok]) - np.abs(reference.sdf[ok]))
    return {
        "bad": int((~ok).sum()),
        "near_flip": int((flip & ok & is_near).sum()),
        "near_n": int((ok & is_near).sum()),
        "vol_flip": int((flip & ok & ~is_near).sum()),
        "vol_n": int((ok & ~is_near).sum()),
        "diff_max": float(diff.max()) if len(diff) else float("nan"),
        "diff_median": float(np.median(diff)) if len(diff) else float("nan"),
    }


def benchmark(args: argparse.Namespace) -> tuple[dict, dict, list[str]]:
    from tqdm import tqdm

    files = mesh_files(args.meshes, args.limit)
    methods = []
    for method in args.methods:
        reason = gt.backend_unavailable(method) if method != PLAIN else None
        if reason:
            print(f"skipping {method}: {reason}", file=sys.stderr)
        else:
            methods.append(method)
    results: dict = {m: {} for m in methods}  # method -> mesh -> (Run metadata, comparison)
    flags: dict = {}
    progress = tqdm(total=len(files) * len(methods), unit="run", file=sys.stderr)
    for path in files:
        mesh, _ = normalize_mesh(clean_mesh(load_mesh(path), path))
        points, near = sample(mesh, args.points, args.seed)
        limit = gt.max_distance(mesh, points)
        reference = None
        for method in methods:
            progress.set_description(f"{path.stem}:{method}")
            if method in SLOW:
                keep = subset(len(points), near, args.slow_points)
                run = run_method(method, mesh, points[keep], args.repeat)
                sub_reference = Run(0.0, 0.0, reference.sdf[keep])
                comparison = compare(run, sub_reference, int(np.sum(keep < near)), limit)
                run.points = len(keep)
            else:
                run = run_method(method, mesh, points, args.repeat)
                reference = reference or run
                comparison = compare(run, reference, near, limit)
                run.points = len(points)
            results[method][path.stem] = (run, comparison)
            run.sdf = None if method != gt.DEFAULT_METHOD else run.sdf  # keep memory flat
            progress.update()
        inside = float(np.mean(reference.sdf[near:] < 0))
        flags[path.stem] = (inside, gt.inside_fraction_flag(inside))
        reference.sdf = None
    progress.close()
    return results, flags, [p.stem for p in files]


def pct(count: int, total: int) -> str:
    return f"{100.0 * count / total:.4f}" if total else "n/a"


def backend_table(results: dict, points: int) -> list[str]:
    lines = [
        "| method | meshes | points/s (median) | s/mesh median | s/mesh max | sign ≠ winding, near % "
        "| sign ≠ winding, volume % | max abs(Δd) | median abs(Δd) | non-finite or huge |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for method, per_mesh in results.items():
        runs = [r for r, _ in per_mesh.values()]
        cmp = [c for _, c in per_mesh.values()]
        seconds = np.array([r.seconds for r in runs])
        rate = np.array([r.points for r in runs]) / seconds
        near = pct(sum(c["near_flip"] for c in cmp), sum(c["near_n"] for c in cmp))
        vol = pct(sum(c["vol_flip"] for c in cmp), sum(c["vol_n"] for c in cmp))
        if method == gt.DEFAULT_METHOD:
            near = vol = "(reference)"
        slow = f" ({runs[0].points:,} pts)" if runs[0].points != points else ""
        lines.append(
            f"| {method}{slow} | {len(runs)} | {np.median(rate):,.0f} | {np.median(seconds):.2f} | {seconds.max():.2f} "
            f"| {near} | {vol} | {max(c['diff_max'] for c in cmp):.2e} "
            f"| {np.median([c['diff_median'] for c in cmp]):.2e} | {sum(c['bad'] for c in cmp)} |"
        )
    return lines


def worst_table(results: dict, top: int = 5) -> list[str]:
    lines = ["| method | meshes with most sign disagreement (mesh: near % / volume %) |", "|---|---|"]
    for method, per_mesh in results.items():
        if method == gt.DEFAULT_METHOD:
            continue
        cmp = {mesh: c for mesh, (_, c) in per_mesh.items()}
        rate = {m: (c["near_flip"] + c["vol_flip"]) / max(c["near_n"] + c["vol_n"], 1) for m, c in cmp.items()}
        worst = [m for m in sorted(rate, key=rate.get, reverse=True)[:top] if rate[m] > 0]
        cells = ", ".join(
            f"{m}: {pct(cmp[m]['near_flip'], cmp[m]['near_n'])} / {pct(cmp[m]['vol_flip'], cmp[m]['vol_n'])}" for m in worst
        )
        lines.append(f"| {method} | {cells or 'none'} |")
    return lines


def speed_table(results: dict) -> list[str]:
    lines = [
        "| method | s/mesh median | s/mesh max (mesh) | meshes > 1 s / > 3 s | CPU s/mesh median | CPU s max "
        "| speed-up vs igl_plain (median of per-mesh ratios) |",
        "|---|---|---|---|---|---|---|",
    ]
    plain = results.get(PLAIN)
    for method in (gt.DEFAULT_METHOD, PLAIN):
        if method not in results:
            continue
        per_mesh = results[method]
        seconds = {m: r.seconds for m, (r, _) in per_mesh.items()}
        cpu = np.array([r.cpu for r, _ in per_mesh.values()])
        slowest = max(seconds, key=seconds.get)
        ratio = "1"
        if method != PLAIN and plain is not None:
            ratio = f"{np.median([plain[m][0].seconds / s for m, s in seconds.items()]):.1f}x"
        over = f"{sum(s > 1 for s in seconds.values())} / {sum(s > 3 for s in seconds.values())}"
        lines.append(
            f"| {method} | {np.median(list(seconds.values())):.2f} | {seconds[slowest]:.2f} ({slowest}) | {over} "
            f"| {np.median(cpu):.2f} | {cpu.max():.2f} | {ratio} |"
        )
    return lines


def winding_paths(results: dict) -> list[str]:
    counts = [r.counts for r, _ in results[gt.DEFAULT_METHOD].values() if r.counts]
    if not counts:
        return []
    total = sum(c["direct"] + c["propagated"] for c in counts)
    stages = sorted({k for c in counts for k in c if k.startswith("cpu_")})
    cpu = ", ".join(f"{k[4:]} {np.median([c.get(k, 0.0) for c in counts]):.2f}" for k in stages)
    return [
        f"winding: w evaluated directly for {pct(sum(c['direct'] for c in counts), total)} % of points, "
        f"propagated over surface-free regions for {pct(sum(c['propagated'] for c in counts), total)} % "
        f"(+ {sum(c['representatives'] for c in counts):,} representatives); median CPU s per stage: {cpu}"
    ]


def flag_lines(flags: dict) -> list[str]:
    fractions = np.array([f for f, _ in flags.values()])
    lines = [
        f"inside fraction of volume points: min {fractions.min():.2%}, median {np.median(fractions):.2%}, "
        f"max {fractions.max():.2%}"
    ]
    lines += [f"- mesh {mesh}: {flag}" for mesh, (_, flag) in flags.items() if flag]
    return lines


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    load_before = os.getloadavg()[0]
    results, flags, meshes = benchmark(args)
    print(
        f"\n## Ground-truth backends: {len(meshes)} meshes from {args.meshes.resolve()}, {args.points:,} points each "
        f"(half near-surface N(0, {NEAR_STD}), half uniform in the unit sphere), seed {args.seed}, "
        f"{os.cpu_count()} CPUs, IGL_NUM_THREADS={os.environ.get('IGL_NUM_THREADS', 'unset')}, "
        f"load average before/after {load_before:.1f}/{os.getloadavg()[0]:.1f} (other jobs share the CPUs)\n"
    )
    for lines in (backend_table(results, args.points), [""], worst_table(results), [""], speed_table(results)):
        print("\n".join(lines))
    print()
    print("\n".join(winding_paths(results) + flag_lines(flags)))


if __name__ == "__main__":
    main()
