"""Ablation of the hash-grid recipe: from a small 12-level grid to the default, one change at a time, side by side.

Each variant is an architecture of config/config.yaml with changes to its params, its training and
its training pool (`sampling.train`: point counts and near-surface noise), trained by the train
stage and tested by the evaluate stage on the same test points (the test split does not depend on
the pool). One thread, as the pipeline's train jobs.

    python benchmarks/recipe_ablation.py --objects 36,18,26,10,0
"""

from __future__ import annotations

import sys

import pandas as pd
from harness import Bench, parser

WIDE_NOISE = [0.002, 0.01, 0.03]
SMALL_POOL = {"near_count": 300_000, "volume_count": 150_000, "near_std": WIDE_NOISE}
FULL_POOL = {"near_count": 1_200_000, "volume_count": 300_000}
# The hash grid's recipe before its last row: batches of 4096, one lr for tables and head (spelled out, as the config's default moved on).
ONE_LR = {"batch_size": 4096, "table_lr_scale": 1.0}
# label: (architecture, params, training, training pool), each a change to the architecture's recipe
VARIANTS = {
    "12 levels of 2^12 rows, fp16, 800 steps, 300k+150k pool": ("hashgrid_12l_int8", {"log2_table": 12}, {"steps": 800, "weight_dtype": "float16"}, SMALL_POOL),
    "+ 2^13 rows, fp16 (over the size budget)": ("hashgrid_12l_int8", {}, {"steps": 800, "weight_dtype": "float16"}, SMALL_POOL),
    "+ 2^13 rows, int8": ("hashgrid_12l_int8", {}, {"steps": 800}, SMALL_POOL),
    "+ 1200 steps": ("hashgrid_12l_int8", {}, {}, SMALL_POOL),
    "+ 1.2M+300k pool": ("hashgrid_12l_int8", {}, {}, FULL_POOL | {"near_std": WIDE_NOISE}),
    "+ noise std 0.003, 0.007, 0.012 (hashgrid_12l_int8)": ("hashgrid_12l_int8", {}, {}, FULL_POOL),
    "+ 8 levels, 2^14 rows at the two finest, lzma": ("hashgrid", {}, ONE_LR | {"steps": 1200, "batch_size": 8192, "clamp": 0.1}, FULL_POOL),
    "+ batches of 4096 for 2000 steps": ("hashgrid", {}, ONE_LR | {"steps": 2000, "clamp": 0.1}, FULL_POOL),
    "+ loss clamp 0.05": ("hashgrid", {}, ONE_LR | {"steps": 2000}, FULL_POOL),
    "+ 2400 steps": ("hashgrid", {}, ONE_LR | {"steps": 2400}, FULL_POOL),
    "+ batches of 2048 for 3000 steps, tables at 3x lr, 600k+150k pool (hashgrid, the default)": ("hashgrid", {}, {}, {}),
}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    args = parser(__doc__, objects="36,18,26,10,0").parse_args(argv)
    rows = []
    with Bench(__file__, __doc__, args, argv) as b:
        variants = [b.variant(label, *change) for label, change in VARIANTS.items()]
        for name, mesh in b.meshes().items():
            prepared = b.prepare(name, mesh)
            for chosen in variants:
                rows.append(b.train(prepared, chosen))
                print(f"{name:>4} {chosen.label}: near {rows[-1]['f1_near']:.4f}", file=sys.stderr, flush=True)
        runs = pd.DataFrame(rows)
        table = runs.groupby("variant", sort=False).agg(max_model_bytes=("model_bytes", "max"), mean_f1_near=("f1_near", "mean"),
                                                        mean_f1_volume=("f1_volume", "mean"), median_train_s=("train_seconds", "median"))  # fmt: skip
        near = runs.pivot(index="variant", columns="object", values="f1_near").add_prefix("near ")
        table = table.join(near).reset_index().round(4).round({"median_train_s": 1})
        b.page("How the hash-grid recipe got its F1", [("", table)])


if __name__ == "__main__":
    main()
