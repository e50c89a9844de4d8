"""F1 against stored bytes: each model family at about 32, 64, 128 and 194 KB per object, trained and tested on the same points.

Each family keeps its config/config.yaml recipe and changes only its size (the hash grids: levels
and table rows; the grid control: its resolution; SIREN: its width). Every model goes through the
train and evaluate stages, so bytes and F1s are those of the weights as stored (lzma-coded where
the recipe says so). One thread per training, `--jobs` trainings at once. Writes the table and a
figure of F1 against bytes beside the page.

    python benchmarks/size_sweep.py                       # hashgrid, hashgrid_12l_int8, grid, siren on 12 objects
    python benchmarks/size_sweep.py --objects 0,16 --families hashgrid,grid --sizes 64,128
"""

from __future__ import annotations

import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd
from harness import SUBSET, Bench, parser, renamed, train_variant

# family: (architecture in config/config.yaml, {target KB: (changes to its params, to its training)})
FAMILIES = {
    # The default recipe (8 levels, the two finest with twice the rows, int8 codes coded with lzma), its tables scaled.
    "hashgrid": ("hashgrid", {
        32: ({"log2_table": [11, 11, 11, 11, 11, 11, 12, 12]}, {}),
        64: ({"log2_table": [12, 12, 12, 12, 12, 12, 13, 13]}, {}),
        128: ({}, {}),  # the default
        194: ({"log2_table": [13, 13, 13, 13, 13, 14, 15, 15]}, {}),
    }),
    # 12 levels of 2^13 rows, int8 codes without lzma; fewer levels or rows.
    "hashgrid_12l_int8": ("hashgrid_12l_int8", {
        32: ({"levels": 8, "log2_table": 11}, {}),
        64: ({"levels": 8, "log2_table": 12}, {}),
        128: ({"levels": 8, "log2_table": 13}, {}),
        194: ({}, {}),
    }),
    # All 12 levels kept, fewer rows per level instead.
    "hashgrid_12_levels": ("hashgrid_12l_int8", {64: ({"log2_table": 11}, {}), 128: ({"log2_table": 12}, {})}),
    # The same tables at 4, 5 and 6 bits per value, trained on the stored values.
    "hashgrid_int4_qat": ("hashgrid_12l_int8", {
        32: ({"levels": 8, "log2_table": 12}, {"weight_dtype": "int4", "qat": True}),
        64: ({"levels": 8, "log2_table": 13}, {"weight_dtype": "int4", "qat": True}),
        128: ({"levels": 12, "log2_table": 13, "features": 2}, {"weight_dtype": "int4", "qat": True}),
    }),
    "hashgrid_int5_qat": ("hashgrid_12l_int8", {128: ({}, {"weight_dtype": "int5", "qat": True})}),
    "hashgrid_int6_qat": ("hashgrid_12l_int8", {128: ({"levels": 10}, {"weight_dtype": "int6", "qat": True})}),
    # The dense-grid control, int8 and lzma-coded as in config/config.yaml, and the same without coding.
    "grid": ("grid", {32: ({"resolution": 49}, {}), 64: ({"resolution": 64}, {}), 128: ({}, {}), 194: ({"resolution": 95}, {})}),
    "grid_int8": ("grid", {size: ({"resolution": res}, {"weight_coding": "none"}) for size, res in ((32, 30), (64, 39), (128, 49), (194, 57))}),
    "siren": ("siren", {32: ({"hidden": 62}, {}), 64: ({"hidden": 88}, {}), 128: ({"hidden": 125}, {}), 194: ({"hidden": 154}, {})}),
}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    p = parser(__doc__, objects=SUBSET)
    p.add_argument("--families", default="hashgrid,hashgrid_12l_int8,grid,siren", help=f"from {', '.join(FAMILIES)}")
    p.add_argument("--sizes", default="", help="only these target sizes in KB, e.g. 128,194 (default: all)")
    p.add_argument("--jobs", type=int, default=2, help="trainings at once")
    args = p.parse_args(argv)
    families = [renamed(f) for f in args.families.split(",")]
    unknown = [f for f in families if f not in FAMILIES]
    if unknown:
        p.error(f"unknown families {unknown} (choose from {', '.join(FAMILIES)})")
    sizes = {int(k) for k in args.sizes.split(",") if k}
    with Bench(__file__, __doc__, args, argv) as b:
        prepared = [b.prepare(name, mesh) for name, mesh in b.meshes().items()]
        variants = {(f, s): b.variant(f"{f} {s} KB", FAMILIES[f][0], *FAMILIES[f][1][s]) for f in families for s in FAMILIES[f][1] if not sizes or s in sizes}
        tasks = [(obj, chosen, b.config, b.work) for chosen in variants.values() for obj in prepared]
        if args.jobs > 1:
            with ProcessPoolExecutor(args.jobs) as pool:
                rows = list(pool.map(train_one, tasks))
        else:
            rows = [train_one(task) for task in tasks]
        runs = pd.DataFrame(rows)
        keys = pd.DataFrame([{"variant": v.label, "family": f, "target KB": s} for (f, s), v in variants.items()])
        runs = runs.merge(keys, on="variant")
        figure = args.out / "size_sweep.png"
        draw(runs, figure)
        b.page("Quality per byte: F1 against stored size", [("", table(runs)), ("Figure", f"![F1 against stored bytes]({figure.name})")])


def train_one(task: tuple) -> dict:
    row = train_variant(*task)
    print(f"{row['variant']:>24} {row['object']:>4}: near {row['f1_near']:.4f} volume {row['f1_volume']:.4f} {row['model_bytes']:,} B", file=sys.stderr, flush=True)
    return row


def table(runs: pd.DataFrame) -> pd.DataFrame:
    """Per family and size; the bytes are each size's largest over the objects (the coded size varies by object)."""
    return runs.groupby(["family", "target KB"], sort=False).agg(
        max_model_bytes=("model_bytes", "max"), mean_f1_near=("f1_near", "mean"), mean_f1_volume=("f1_volume", "mean"),
        min_f1_near=("f1_near", "min"), mean_sdf_mae_band=("sdf_mae_band", "mean"), median_train_s=("train_seconds", "median"),
    ).reset_index().round({"mean_f1_near": 4, "mean_f1_volume": 4, "min_f1_near": 4, "mean_sdf_mae_band": 4, "median_train_s": 1})  # fmt: skip


def draw(runs: pd.DataFrame, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    means = runs.groupby(["family", "target KB"], sort=False).agg(bytes=("model_bytes", "max"), near=("f1_near", "mean"), volume=("f1_volume", "mean"))
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
    plt.close(fig)


if __name__ == "__main__":
    main()
