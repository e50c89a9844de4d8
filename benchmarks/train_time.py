"""Training time of the default against the previous default: one training at a time, one thread.

In the pipeline, `--cores 2` runs two single-threaded trainings at once, and they share the
memory bus (which slows the gather-heavy hash-grid steps) with each other and with the other
stages. Here every training runs alone: each object is normalized and sampled once with the
pipeline's own stage functions, then each model is trained by the train stage (which first draws
its training pool, not counted in its train seconds) and evaluated, alternating which model goes
first. Prints per model the median train seconds and step time, the mean F1, and the ratios to the
first model's (median of the per-object ratios too).

    python benchmarks/train_time.py                                   # the size sweep's 12 objects
    python benchmarks/train_time.py --objects 0,16 --models hashgrid_previous,hashgrid
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import pandas as pd
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from named_meshes import REPO, named_meshes  # noqa: E402
from size_sweep import SUBSET  # noqa: E402

from implicit3d.stages import evaluate, normalize, sample, train  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--meshes", type=Path, default=REPO / ".." / "shared" / "data" / "test_task_meshes")
    parser.add_argument("--objects", default=SUBSET, help="comma-separated mesh stems")
    parser.add_argument("--models", default="hashgrid_previous,hashgrid", help="architectures of config/config.yaml; the first is the reference")
    args = parser.parse_args(argv)
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    models = args.models.split(",")
    for model in models:
        if model not in cfg["architectures"]:
            sys.exit(f"config/config.yaml: no architecture named {model}")
    found = named_meshes(args.meshes, args.objects.split(","))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for i, (name, source) in enumerate(found.items()):
            mesh, points = root / f"{name}.ply", root / f"{name}.parquet"
            normalize(str(source), str(mesh), str(root / f"{name}.json"))
            sample(str(mesh), str(points), cfg["sampling"])
            for model in models if i % 2 == 0 else models[::-1]:  # alternate, so drift favours neither
                out = root / f"{model}_{name}"
                info = train(str(points), str(mesh), f"{out}.pt", f"{out}.json", cfg["architectures"][model], threads=1, progress=False)
                metrics = evaluate(f"{out}.pt", f"{out}.json", str(points), f"{out}_eval.json", name, model)
                rows.append({"model": model, "object": name, "train s": info["train_seconds"], "step ms": info["step_ms"],
                             "steps": info["steps"], "model bytes": info["model_bytes"], "f1_near": metrics["f1_near"], "f1_volume": metrics["f1_volume"]})  # fmt: skip
                print(f"{name:>4} {model}: {info['train_seconds']:.1f} s, near {metrics['f1_near']:.4f}", file=sys.stderr, flush=True)
    print(summarize(pd.DataFrame(rows), models).to_markdown(index=False))


def summarize(df: pd.DataFrame, models: list[str]) -> pd.DataFrame:
    """Per model: medians of time, means of F1, and ratios to the first model's."""
    table = (
        df.groupby("model", sort=False)
        .agg(objects=("object", "size"), steps=("steps", "median"), **{"median train s": ("train s", "median"), "median step ms": ("step ms", "median")},
             **{"max model bytes": ("model bytes", "max"), "mean f1_near": ("f1_near", "mean"), "mean f1_volume": ("f1_volume", "mean")})  # fmt: skip
        .reindex(models)
        .reset_index()
    )
    per_object = df.pivot(index="object", columns="model", values="train s")
    base = table.iloc[0]
    table["train ratio"] = (table["median train s"] / base["median train s"]).round(2)
    table["median per-object ratio"] = [round(float((per_object[m] / per_object[models[0]]).median()), 2) for m in models]
    return table.round({"median train s": 1, "median step ms": 2, "mean f1_near": 4, "mean f1_volume": 4})


if __name__ == "__main__":
    main()
