"""The compact hash grid against the default: stored bytes, F1, training time and loading, side by side on the same objects.

`hashgrid` (int8 codes with per-block scales, lzma) and the opt-in `hashgrid_compact` (integer
codes with steps learned in training, a rate term in the loss, ANS coding), as config/config.yaml
defines them, each trained by the train stage and tested by the evaluate stage on the same test
points, one training at a time on one thread, alternating which goes first so that drift favours
neither. Bytes are the stored ones. Loading is `load_model` on the stored file (best of three); the
points per second with loading are those of one batch of BATCH points, the model loaded first.

    python benchmarks/size_routes.py                                   # the size sweep's 12 objects
    python benchmarks/size_routes.py --objects 0,16 --variants hashgrid,hashgrid_compact,hashgrid_compact_lzma
"""

from __future__ import annotations

import sys
import time

import pandas as pd
from harness import SUBSET, Bench, natural, parser

from implicit3d.training import load_model

BATCH = 100_000  # points per query batch in "points per second with loading" (a test split's size)
# variant: (architecture in config/config.yaml, changes to its training[, changes to its parameters])
VARIANTS = {
    "hashgrid": ("hashgrid", {}),
    "hashgrid_compact": ("hashgrid_compact", {}),
    # The same under torch's autograd (training.compiled: false): the compiled loops' side-by-side.
    "hashgrid_compact_autograd": ("hashgrid_compact", {"compiled": False}),
    # The same training (the coding is not part of it), its codes coded with lzma instead of ANS.
    "hashgrid_compact_lzma": ("hashgrid_compact", {"weight_coding": "lzma"}),
    # The compact grid's recipe before it took the default's: 2,000 steps of 4,096, tables at the head's lr.
    "hashgrid_compact_b4096_2000": ("hashgrid_compact", {"table_lr_scale": 1.0, "batch_size": 4096, "steps": 2000}),
    # Knobs tried on it: a larger byte cap, a lighter rate term, the default's 32-wide head under a smaller cap.
    "hashgrid_compact_cap31k": ("hashgrid_compact", {"rate_cap_bytes": 31000}),
    "hashgrid_compact_rate2e-4": ("hashgrid_compact", {"rate_weight": 0.0002}),
    "hashgrid_compact_hidden32_cap29k": ("hashgrid_compact", {"rate_cap_bytes": 29000}, {"hidden": 32}),
    # The learned steps alone, without the rate term and the cap: what rounding costs when bytes do not count.
    "hashgrid_compact_no_rate": ("hashgrid_compact", {"rate_weight": 0.0, "rate_cap_bytes": 0.0}),
    # Distances fitted in a narrower band (the loss clamp), leaving more of the bytes to the surface.
    "hashgrid_compact_clamp0.015": ("hashgrid_compact", {"clamp": 0.015}),
    # A finer, larger grid under the same cap: 12 levels up to 512 cells across, 2^16 rows each.
    "hashgrid_compact_r512": ("hashgrid_compact", {}, {"levels": 12, "log2_table": 16, "max_resolution": 512}),
}


def main(argv: list[str] | None = None) -> None:
    p = parser(__doc__, objects=SUBSET)
    p.add_argument("--variants", default="hashgrid,hashgrid_compact", help=f"from {', '.join(VARIANTS)}")
    args = p.parse_args(argv)
    unknown = [v for v in args.variants.split(",") if v not in VARIANTS]
    if unknown:
        p.error(f"unknown variants {unknown} (choose from {', '.join(VARIANTS)})")
    with Bench(__file__, __doc__, args, argv) as b:
        variants = [b.variant(name, VARIANTS[name][0], *VARIANTS[name][2:], training=VARIANTS[name][1]) for name in args.variants.split(",")]
        rows = []
        for i, (name, mesh) in enumerate(b.meshes().items()):
            prepared = b.prepare(name, mesh)
            for chosen in variants if i % 2 == 0 else variants[::-1]:
                row = b.train(prepared, chosen)
                rows.append({**row, "load_seconds": load_seconds(row["model_path"])})
                print(f"{name:>4} {chosen.label:>22}: near {row['f1_near']:.4f} volume {row['f1_volume']:.4f} {row['model_bytes']:>8,} B "
                      f"{row['train_seconds']:.1f} s", file=sys.stderr, flush=True)  # fmt: skip
        runs = pd.DataFrame(rows)
        per_object = runs.pivot(index="object", columns="variant", values=["model_bytes", "f1_near"])
        per_object = per_object.reindex(sorted(per_object.index, key=natural)).round(4)
        per_object.columns = [f"{variant} {column}" for column, variant in per_object.columns]
        b.page("The compact hash grid against the default", [("", summary(runs)), ("Per object", per_object.reset_index())])


def load_seconds(path: str, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        load_model(path)
        best = min(best, time.perf_counter() - start)
    return best


def summary(runs: pd.DataFrame) -> pd.DataFrame:
    """Per variant: bytes (largest and mean), F1 (means and the worst object), medians of time."""
    runs = runs.assign(with_load=BATCH / (runs["load_seconds"] + BATCH / runs["infer_points_per_s"]))
    return runs.groupby("variant", sort=False).agg(
        objects=("object", "size"), max_model_bytes=("model_bytes", "max"), mean_model_bytes=("model_bytes", "mean"),
        mean_f1_near=("f1_near", "mean"), mean_f1_volume=("f1_volume", "mean"), min_f1_near=("f1_near", "min"),
        mean_sdf_mae_band=("sdf_mae_band", "mean"), median_train_s=("train_seconds", "median"),
        median_load_ms=("load_seconds", lambda s: 1000 * s.median()), median_M_points_per_s_with_load=("with_load", lambda s: s.median() / 1e6),
    ).reset_index().round({"mean_model_bytes": 0, "mean_f1_near": 4, "mean_f1_volume": 4, "min_f1_near": 4, "mean_sdf_mae_band": 5,
                           "median_train_s": 1, "median_load_ms": 1, "median_M_points_per_s_with_load": 2})  # fmt: skip


if __name__ == "__main__":
    main()
