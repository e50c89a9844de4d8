"""F1 against stored bytes: the hash grid, the dense `grid` control and SIREN at about 32, 64, 128
and 194 KB each, trained and tested on the same points.

Every model goes through the real save/load path, so bytes and F1s are those of the weights as
stored (lzma-coded where the recipe says so). Each family keeps its config/config.yaml recipe; only
its size changes (the hash grids: levels and table rows; the grid: its resolution; SIREN: its width). One thread per training,
`--jobs` trainings at once. Test points and normalized meshes come from the pipeline's cache
(results/samples/<tag>, results/normalized) when a run made them, else they are made here once
(results/size_sweep/samples); each training draws its pool from them, as the pipeline's do.

    python benchmarks/size_sweep.py                       # the 12-object subset below, 2 jobs
    python benchmarks/size_sweep.py --objects 0,16 --families hashgrid,grid
    python benchmarks/size_sweep.py --families hashgrid,hashgrid_int5_qat --sizes 128,194 --figure /tmp/s.png

Prints the F1-vs-bytes table and writes results/size_sweep/runs.csv and docs/size_sweep.png.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from implicit3d.workflow import sample_tag  # noqa: E402

sys.path.insert(0, str(REPO / "benchmarks"))
from named_meshes import named_meshes  # noqa: E402

# The subset: the six objects with the lowest near-surface F1 under the previous default
# (16, 0, 20, 36, 4, 8) and six more spread over the collection.
SUBSET = "0,4,8,10,16,18,20,26,30,36,40,45"
# family: (architecture in config/config.yaml, {target KB: changes to its params and training})
FAMILIES = {
    # The default recipe (8 levels, the two finest with twice the rows, int8 codes coded with lzma,
    # batches of 4096 for 2000 steps), its tables scaled.
    "hashgrid": ("hashgrid", {
        32: ({"log2_table": [11, 11, 11, 11, 11, 11, 12, 12]}, {}),
        64: ({"log2_table": [12, 12, 12, 12, 12, 12, 13, 13]}, {}),
        128: ({}, {}),  # the default
        194: ({"log2_table": [13, 13, 13, 13, 13, 14, 15, 15]}, {}),
    }),
    # The previous default's recipe (12 levels of 2^13 rows, int8, batches of 8192 for 1200 steps), fewer levels or rows.
    "hashgrid_previous": ("hashgrid_previous", {
        32: ({"levels": 8, "log2_table": 11}, {}),
        64: ({"levels": 8, "log2_table": 12}, {}),
        128: ({"levels": 8, "log2_table": 13}, {}),
        194: ({}, {}),  # the previous default
    }),
    # All 12 levels kept, fewer rows per level instead.
    "hashgrid_12_levels": ("hashgrid_previous", {
        64: ({"log2_table": 11}, {}),
        128: ({"log2_table": 12}, {}),
    }),
    # The same tables at 4 bits per value, trained on the stored values.
    "hashgrid_int4_qat": ("hashgrid_previous", {
        32: ({"levels": 8, "log2_table": 12}, {"weight_dtype": "int4", "qat": True}),
        64: ({"levels": 8, "log2_table": 13}, {"weight_dtype": "int4", "qat": True}),
        128: ({"levels": 12, "log2_table": 13, "features": 2}, {"weight_dtype": "int4", "qat": True}),
    }),
    # The previous default's 12 levels of 2^13 rows at 5 bits per value (about 124 KB), trained on the stored values.
    "hashgrid_int5_qat": ("hashgrid_previous", {128: ({}, {"weight_dtype": "int5", "qat": True})}),
    # 10 levels of 2^13 rows at 6 bits per value (about 120 KB), trained on the stored values.
    "hashgrid_int6_qat": ("hashgrid_previous", {128: ({"levels": 10}, {"weight_dtype": "int6", "qat": True})}),
    # The dense-grid control, int8 and lzma-coded as in config/config.yaml.
    "grid": ("grid", {32: ({"resolution": 49}, {}), 64: ({"resolution": 64}, {}), 128: ({}, {}), 194: ({"resolution": 95}, {})}),
    # The same without coding.
    "grid_int8": ("grid", {
        size: ({"resolution": res}, {"weight_coding": "none"}) for size, res in ((32, 30), (64, 39), (128, 49), (194, 57))
    }),
    "siren": ("siren", {32: ({"hidden": 62}, {}), 64: ({"hidden": 88}, {}), 128: ({"hidden": 125}, {}), 194: ({"hidden": 154}, {})}),
}  # fmt: skip


def model_cfg(config: dict, family: str, size: int) -> dict:
    arch_name, sizes = FAMILIES[family]
    params, training = sizes[size]
    cfg = copy.deepcopy(config["architectures"][arch_name])
    cfg["params"].update(params)
    cfg["training"].update(training)
    return cfg


def samples_for(config: dict, meshes: Path, name: str) -> tuple[Path, Path]:
    """The object's test points (samples file) and normalized mesh, from which each training draws its pool."""
    cached = REPO / "results" / "samples" / sample_tag(config) / f"{name}.parquet", REPO / "results" / "normalized" / f"{name}.ply"
    if all(p.exists() for p in cached):
        return cached
    from implicit3d.stages import normalize, sample

    out = REPO / "results" / "size_sweep" / "samples" / f"{name}.parquet", REPO / "results" / "size_sweep" / "samples" / f"{name}.ply"
    if not all(p.exists() for p in out):
        with tempfile.TemporaryDirectory() as tmp:
            normalize(str(named_meshes(meshes, [name])[name]), str(out[1]), f"{tmp}/{name}.json", config["normalize"]["max_faces"])
        sample(str(out[1]), str(out[0]), config["sampling"])
    return out


def run_one(task: tuple[str, int, str, dict, tuple[Path, Path]]) -> dict:
    family, size, name, cfg, (points, mesh) = task
    from implicit3d.evaluation import evaluate_points
    from implicit3d.io import read_points
    from implicit3d.stages import train
    from implicit3d.training import load_model

    with tempfile.TemporaryDirectory() as tmp:
        info = train(str(points), str(mesh), f"{tmp}/m.pt", f"{tmp}/m.json", cfg, threads=1, device="cpu", progress=False)
        model, ckpt = load_model(f"{tmp}/m.pt")
    frame, _ = read_points(points)
    metrics = evaluate_points(model, frame[frame["split"] == "test"])
    row = {"family": family, "target_kb": size, "object": name, "model_bytes": ckpt["model_bytes"], "train_seconds": info["train_seconds"],
           **{k: metrics[k] for k in ("f1_near", "f1_volume", "sdf_mae_band")}}  # fmt: skip
    print(f"{family:>18} {size:>4} KB {name:>4}: near {row['f1_near']:.4f} volume {row['f1_volume']:.4f} {row['model_bytes']:,} B", file=sys.stderr, flush=True)
    return row


def table(runs: pd.DataFrame) -> str:
    head = ["family", "target KB", "model bytes", "mean f1_near", "mean f1_volume", "min f1_near", "mean sdf_mae_band", "median train s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for (family, size), d in runs.groupby(["family", "target_kb"], sort=False):
        cells = [family, str(size), f"{int(d.model_bytes.max()):,}", f"{d.f1_near.mean():.4f}", f"{d.f1_volume.mean():.4f}",
                 f"{d.f1_near.min():.4f}", f"{d.sdf_mae_band.mean():.4f}", f"{statistics.median(d.train_seconds):.1f}"]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def figure(runs: pd.DataFrame, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    means = runs.groupby(["family", "target_kb"], sort=False).agg(bytes=("model_bytes", "max"), near=("f1_near", "mean"), volume=("f1_volume", "mean"))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), constrained_layout=True, sharex=True)
    for ax, col, title in zip(axes, ("near", "volume"), ("near-surface F1", "volume F1"), strict=True):
        for family, part in means.groupby(level="family", sort=False):
            ax.plot(part["bytes"] / 1024, part[col], marker="o", label=family)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("stored bytes per object (KiB)")
        ax.set_title(f"mean {title}, {runs.object.nunique()} objects")
        ax.grid(alpha=0.3)
    axes[0].legend()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--meshes", type=Path, default=REPO / ".." / "shared" / "data" / "test_task_meshes")
    parser.add_argument("--objects", default=SUBSET, help=f"comma-separated mesh stems (default: {SUBSET})")
    parser.add_argument("--families", default="hashgrid,hashgrid_previous,grid,siren", help=f"from {', '.join(FAMILIES)}")
    parser.add_argument("--sizes", default="", help="only these target sizes in KB, e.g. 128,194 (default: all)")
    parser.add_argument("--config", type=Path, default=REPO / "config" / "config.yaml")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--figure", type=Path, default=REPO / "docs" / "size_sweep.png")
    args = parser.parse_args(argv)
    config = yaml.safe_load(args.config.read_text())
    families = args.families.split(",")
    unknown = [f for f in families if f not in FAMILIES]
    if unknown:
        parser.error(f"unknown families {unknown}")
    names = args.objects.split(",")
    points = {name: samples_for(config, args.meshes, name) for name in names}
    sizes = {int(k) for k in args.sizes.split(",") if k}
    tasks = [
        (f, s, n, model_cfg(config, f, s), points[n])
        for f in families
        for s in FAMILIES[f][1]
        if not sizes or s in sizes
        for n in names
    ]
    with ProcessPoolExecutor(args.jobs) as pool:
        runs = pd.DataFrame(list(pool.map(run_one, tasks)))
    out = REPO / "results" / "size_sweep" / "runs.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    runs.to_csv(out, index=False)
    figure(runs, args.figure)
    print(table(runs))
    print(f"\nper object: {out.relative_to(REPO)}; figure: {args.figure}")


if __name__ == "__main__":
    main()
