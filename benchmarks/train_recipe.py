"""Training recipes for the hash grid side by side: the default, the same steps under autograd, fewer steps or a smaller pool; train time (pool and steps) and F1.

Each candidate is the `hashgrid` architecture of config/config.yaml with changes to its training
(steps, batch, lr and its schedule, the tables' lr, the compiled step or torch's autograd) and to
its training pool (`sampling.train` counts), trained by the train stage and tested by the evaluate
stage on the same test points. The train seconds are the train stage's own: drawing the pool (its
ground truth) plus the steps. One thread, as the pipeline's train jobs; the order of the variants
flips on every other object so that drift favours none. Ratios are to the first variant.

    python benchmarks/train_recipe.py --objects ''                      # every reference mesh (default: the size sweep's 12)
    python benchmarks/train_recipe.py --objects 36,18,26,10,0 --variants reference,steps1200,steps1200_table3
"""

from __future__ import annotations

import sys

import pandas as pd
from harness import SUBSET, Bench, parser

# The recipe of config/config.yaml at 487c72b, spelled out so that the reference stays put when the default changes;
# its steps ran under torch's autograd then (the compiled step, hashgrid_fused, came later).
REFERENCE = {"steps": 2400, "batch_size": 4096, "lr": 0.01, "lr_schedule": "cosine", "table_lr_scale": 1.0, "compiled": False}
DEFAULT = {"batch_size": 2048, "steps": 3000, "table_lr_scale": 3.0}  # the default's changes to REFERENCE
COMPILED = DEFAULT | {"compiled": True}  # the default as it trains: its compiled step
FULL_POOL = {"near_count": 1_200_000, "volume_count": 300_000}
HALF_POOL = {"near_count": 600_000, "volume_count": 150_000}
QUARTER_POOL = {"near_count": 300_000, "volume_count": 75_000}
# name: (label, changes to REFERENCE, training pool); the first of --variants is the reference of the ratios
VARIANTS = {
    "reference": ("2400 steps of 4096, lr 0.01 cosine, 1.2M+300k pool (the default at 487c72b)", {}, FULL_POOL),
    "steps1200": ("1200 steps", {"steps": 1200}, FULL_POOL),
    "steps1200_lr02": ("1200 steps, lr 0.02", {"steps": 1200, "lr": 0.02}, FULL_POOL),
    "steps1200_table3": ("1200 steps, tables at 3x lr", {"steps": 1200, "table_lr_scale": 3.0}, FULL_POOL),
    "steps1200_linear": ("1200 steps, linear decay", {"steps": 1200, "lr_schedule": "linear"}, FULL_POOL),
    "half1400": ("1400 steps, 600k+150k pool", {"steps": 1400}, HALF_POOL),
    "half1400_table3": ("1400 steps, tables at 3x lr, 600k+150k pool", {"steps": 1400, "table_lr_scale": 3.0}, HALF_POOL),
    "half_b2048": ("2400 steps of 2048, 600k+150k pool", {"batch_size": 2048}, HALF_POOL),
    "quarter1600": ("1600 steps, 300k+75k pool", {"steps": 1600}, QUARTER_POOL),
    "steps1300_table3": ("1300 steps, tables at 3x lr", {"steps": 1300, "table_lr_scale": 3.0}, FULL_POOL),
    "steps1200_table10": ("1200 steps, tables at 10x lr", {"steps": 1200, "table_lr_scale": 10.0}, FULL_POOL),
    "steps1200_table3_linear": ("1200 steps, tables at 3x lr, linear decay", {"steps": 1200, "table_lr_scale": 3.0, "lr_schedule": "linear"}, FULL_POOL),
    "b2048_2200_table3": ("2200 steps of 2048, tables at 3x lr", {"batch_size": 2048, "steps": 2200, "table_lr_scale": 3.0}, FULL_POOL),
    "b2048_2000_table3": ("2000 steps of 2048, tables at 3x lr", {"batch_size": 2048, "steps": 2000, "table_lr_scale": 3.0}, FULL_POOL),
    "b2048_3000_table3_half": ("3000 steps of 2048, tables at 3x lr, 600k+150k pool, under autograd", DEFAULT, HALF_POOL),
    "default": ("the default: 3000 steps of 2048, tables at 3x lr, 600k+150k pool, compiled step", COMPILED, HALF_POOL),
    "b1024_4800_table3_half": ("4800 steps of 1024, tables at 3x lr, 600k+150k pool", {"batch_size": 1024, "steps": 4800, "table_lr_scale": 3.0}, HALF_POOL),
    "b2048_2600_table3_half": ("2600 steps of 2048, tables at 3x lr, 600k+150k pool", {"batch_size": 2048, "steps": 2600, "table_lr_scale": 3.0}, HALF_POOL),
    "b2048_2800_table3_half": ("2800 steps of 2048, tables at 3x lr, 600k+150k pool", {"batch_size": 2048, "steps": 2800, "table_lr_scale": 3.0}, HALF_POOL),
    "b2048_2600_table5_half": ("2600 steps of 2048, tables at 5x lr, 600k+150k pool", {"batch_size": 2048, "steps": 2600, "table_lr_scale": 5.0}, HALF_POOL),
    "b2048_2600_table3_half_near07": ("2600 steps of 2048, tables at 3x lr, near fraction 0.7, 600k+150k pool",
                                      {"batch_size": 2048, "steps": 2600, "table_lr_scale": 3.0, "near_fraction": 0.7}, HALF_POOL),
    "b2048_2900_table3_quarter": ("2900 steps of 2048, tables at 3x lr, 300k+75k pool", {"batch_size": 2048, "steps": 2900, "table_lr_scale": 3.0}, QUARTER_POOL),
    "b3072_1800_table3_half": ("1800 steps of 3072, tables at 3x lr, 600k+150k pool", {"batch_size": 3072, "steps": 1800, "table_lr_scale": 3.0}, HALF_POOL),
    "b2048_2600_head005_table6_half": ("2600 steps of 2048, lr 0.005, tables at 6x lr, 600k+150k pool", {"batch_size": 2048, "steps": 2600, "lr": 0.005, "table_lr_scale": 6.0}, HALF_POOL),
    "b2048_2600_head015_table2_half": ("2600 steps of 2048, lr 0.015, tables at 2x lr, 600k+150k pool", {"batch_size": 2048, "steps": 2600, "lr": 0.015, "table_lr_scale": 2.0}, HALF_POOL),
    "b2048_2400_table3_half": ("2400 steps of 2048, tables at 3x lr, 600k+150k pool", COMPILED | {"steps": 2400}, HALF_POOL),
    "b2048_2000_table3_half": ("2000 steps of 2048, tables at 3x lr, 600k+150k pool", COMPILED | {"steps": 2000}, HALF_POOL),
    "b2048_2400_table3_quarter": ("2400 steps of 2048, tables at 3x lr, 300k+75k pool", COMPILED | {"steps": 2400}, QUARTER_POOL),
    "b2048_2400_table3_800k": ("2400 steps of 2048, tables at 3x lr, 800k+200k pool", {"batch_size": 2048, "steps": 2400, "table_lr_scale": 3.0},
                               {"near_count": 800_000, "volume_count": 200_000}),
}  # fmt: skip
# The page's comparison: the default, its recipe under autograd, and what fewer steps or a smaller pool would save and cost.
COMPARED = ("default", "b2048_3000_table3_half", "b2048_2400_table3_half", "b2048_2000_table3_half", "b2048_2400_table3_quarter")


def main(argv: list[str] | None = None) -> None:
    p = parser(__doc__, objects=SUBSET)
    p.add_argument("--variants", default=",".join(COMPARED), help=f"names from {', '.join(VARIANTS)}; the first is the reference")
    args = p.parse_args(argv)
    names = [n for n in args.variants.split(",") if n]
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        p.error(f"unknown variants {unknown} (choose from {', '.join(VARIANTS)})")
    with Bench(__file__, __doc__, args, argv) as b:
        variants = [b.variant(VARIANTS[n][0], "hashgrid", {}, REFERENCE | VARIANTS[n][1], VARIANTS[n][2]) for n in names]
        rows = []
        for i, (name, mesh) in enumerate(b.meshes().items()):
            prepared = b.prepare(name, mesh)
            if i == 0:  # the kernels' first load (the compiled step's and autograd's), outside any variant's seconds
                for compiled in (True, False):
                    b.train(prepared, b.variant("warm-up", "hashgrid", {}, {"steps": 2, "val_every": 1, "compiled": compiled}, QUARTER_POOL))
            for chosen in variants if i % 2 == 0 else variants[::-1]:
                row = b.train(prepared, chosen)
                rows.append(row | {"stage_s": row["pool_seconds"] + row["train_seconds"]})
                print(f"{name:>4} {chosen.label}: {row['pool_seconds']:.1f} + {row['train_seconds']:.1f} s, near {row['f1_near']:.4f} volume {row['f1_volume']:.4f}",
                      file=sys.stderr, flush=True)  # fmt: skip
        runs = pd.DataFrame(rows)
        b.page("Training recipes for the hash grid", [("", summarize(runs, [v.label for v in variants]))])


def summarize(runs: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
    """Per variant: medians of the train stage's seconds (pool + steps, and each part), the ratio of
    each object's seconds to the reference's (median over objects), F1 means and the worst near F1."""
    table = runs.groupby("variant", sort=False).agg(
        objects=("object", "size"), median_train_s=("stage_s", "median"), median_pool_s=("pool_seconds", "median"),
        median_steps_s=("train_seconds", "median"), mean_f1_near=("f1_near", "mean"), mean_f1_volume=("f1_volume", "mean"),
        min_f1_near=("f1_near", "min"), max_model_bytes=("model_bytes", "max"),
    ).reindex(labels)  # fmt: skip
    per_object = runs.pivot(index="object", columns="variant", values="stage_s")
    table.insert(4, "time_ratio", [(per_object[label] / per_object[labels[0]]).median() for label in labels])
    return table.reset_index().round({"median_train_s": 1, "median_pool_s": 1, "median_steps_s": 1, "time_ratio": 2,
                                      "mean_f1_near": 4, "mean_f1_volume": 4, "min_f1_near": 4})  # fmt: skip


if __name__ == "__main__":
    main()
