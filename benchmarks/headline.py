"""The headline table of a run: per model, the means and medians of its summary side by side, and its worst objects.

The reference run trains the default hash grid, the 12-level int8 hash grid, the dense-grid control
and SIREN on all 50 reference objects (config/benchmark.yaml); this reads its summary.

    .venv/bin/snakemake results/summary.csv --cores 2 --keep-going --configfile config/benchmark.yaml
    python benchmarks/headline.py results/summary.csv
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from harness import Bench, parser

from implicit3d.summary import load_records, read_summary, with_means


def main(argv: list[str] | None = None) -> None:
    p = parser(__doc__, meshes=False)
    p.add_argument("summary", type=Path, nargs="?", default=Path("results/summary.csv"), help="--smoke makes one from tiny models")
    p.add_argument("--worst", type=int, default=5, help="objects listed per model")
    args = p.parse_args(argv)
    with Bench(__file__, __doc__, args, argv) as b:
        if b.smoke:  # a summary of tiny models, as the aggregate step writes it
            rows = [b.train(b.prepare(name, mesh), b.variant(arch, arch)) for name, mesh in b.meshes(smoke_count=2).items() for arch in ("hashgrid", "siren")]
            args.summary = b.work / "summary.csv"
            with_means(load_records([r["eval_path"] for r in rows])).to_csv(args.summary, index=False)
        runs = read_summary(args.summary)
        runs = runs[runs["object"] != "mean"]  # the per-model mean rows are not objects
        b.page("Results on the reference objects", [("Per model", per_model(runs))] + [
            (f"Worst {args.worst} objects of {model} by f1_near", worst(part, args.worst)) for model, part in runs.groupby("model", sort=False)])  # fmt: skip


def per_model(runs: pd.DataFrame) -> pd.DataFrame:
    runs = runs.assign(chamfer=pd.to_numeric(runs["chamfer"]))  # empty without reconstructions
    return runs.groupby("model", sort=False).agg(
        objects=("object", "size"), mean_f1_near=("f1_near", "mean"), mean_f1_volume=("f1_volume", "mean"),
        median_train_s=("train_seconds", "median"), max_train_s=("train_seconds", "max"), median_model_bytes=("model_bytes", "median"),
        max_model_bytes=("model_bytes", "max"), median_chamfer=("chamfer", "median"), median_infer_points_per_s=("infer_points_per_s", "median"),
    ).reset_index().round({"mean_f1_near": 4, "mean_f1_volume": 4, "median_train_s": 1, "max_train_s": 1, "median_chamfer": 5, "median_infer_points_per_s": 0})  # fmt: skip


def worst(part: pd.DataFrame, count: int) -> pd.DataFrame:
    return part.nsmallest(count, "f1_near")[["object", "f1_near", "f1_volume", "gt_flag"]].round(4)


if __name__ == "__main__":
    main()
