"""Training time of the default hash grid against other models, one training at a time on one thread.

Each object is normalized and sampled once; then every model trains with the train stage (which
first draws its training pool, not counted in its train seconds) and is tested with the evaluate
stage, alternating which model goes first so that drift favours none. With `--baseline REV`, that
revision's own default model (`hashgrid` in its config) trains first with its own code, in its own
process on a git worktree of REV: the comparison with the default as users ran it. Ratios are to
the first row.

    python benchmarks/train_time.py                                        # the size sweep's 12 objects
    python benchmarks/train_time.py --objects 0,16 --models hashgrid --baseline v0.1.0
    python benchmarks/train_time.py --objects 16 --models hashgrid --baseline REV   # one step's cost against REV
"""

from __future__ import annotations

import sys

import pandas as pd
from harness import SUBSET, Bench, parser, renamed


def main(argv: list[str] | None = None) -> None:
    p = parser(__doc__, objects=SUBSET, baseline=True)
    p.add_argument("--models", default="hashgrid_12l_int8,hashgrid", help="architectures of config/config.yaml")
    args = p.parse_args(argv)
    with Bench(__file__, __doc__, args, argv) as b, b.baseline() as tree:
        variants = [b.baseline_variant(tree, "hashgrid")] if tree else []
        variants += [b.variant(model, model) for model in map(renamed, args.models.split(","))]
        rows = []
        for i, (name, mesh) in enumerate(b.meshes().items()):
            prepared = b.prepare(name, mesh)
            for chosen in variants if i % 2 == 0 else variants[::-1]:
                rows.append(b.train(prepared, chosen))
                print(f"{name:>4} {chosen.label}: {rows[-1]['train_seconds']:.1f} s, near {rows[-1]['f1_near']:.4f}", file=sys.stderr, flush=True)
        b.page("Training time, one training at a time", [("", summarize(pd.DataFrame(rows), [v.label for v in variants]))])


def summarize(runs: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
    """Per variant: medians of time, means of F1, and ratios to the first variant's."""
    table = runs.groupby("variant", sort=False).agg(
        objects=("object", "size"), steps=("steps", "median"), median_train_s=("train_seconds", "median"),
        median_step_ms=("step_ms", "median"), max_model_bytes=("model_bytes", "max"),
        mean_f1_near=("f1_near", "mean"), mean_f1_volume=("f1_volume", "mean"),
    ).reindex(labels)  # fmt: skip
    per_object = runs.pivot(index="object", columns="variant", values="train_seconds")
    table["train_ratio"] = table["median_train_s"] / table["median_train_s"].iloc[0]
    table["median_per_object_ratio"] = [(per_object[label] / per_object[labels[0]]).median() for label in labels]
    return table.reset_index().round({"median_train_s": 1, "median_step_ms": 2, "mean_f1_near": 4, "mean_f1_volume": 4,
                                      "train_ratio": 2, "median_per_object_ratio": 2})  # fmt: skip


if __name__ == "__main__":
    main()
