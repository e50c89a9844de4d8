"""Training time of the default against the previous default: one training at a time, one thread.

The reference is the previous default as users ran it: the release before this default
(`--baseline`, a git revision) trains its own default model with its own code, in a subprocess
on that revision's tree. Then every model of `--models` trains with this checkout's code (the
previous default's model among them, which shows how much of the gain is the code and how much
the recipe).

In the pipeline, `--cores 2` runs two single-threaded trainings at once, and they share the
memory bus (which slows the gather-heavy hash-grid steps) with each other and with the other
stages. Here every training runs alone: each object is normalized and sampled once with the
pipeline's own stage functions, then each model is trained by the train stage (which first draws
its training pool, not counted in its train seconds) and evaluated, alternating which model goes
first. Prints per model the median train seconds and step time, the mean F1, and the ratios to the
first model's (median of the per-object ratios too).

    python benchmarks/train_time.py                                   # the size sweep's 12 objects
    python benchmarks/train_time.py --objects 0,16 --models hashgrid_previous,hashgrid
    python benchmarks/train_time.py --baseline ''                      # this checkout's models only
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from default_run import BASELINE  # noqa: E402
from named_meshes import REPO, named_meshes  # noqa: E402
from scale import export  # noqa: E402
from size_sweep import SUBSET  # noqa: E402

from implicit3d.stages import evaluate, normalize, sample, train  # noqa: E402

# Runs in the baseline's tree: its train and evaluate stages, then their figures as one JSON line.
RELEASE_RUN = """
import json, sys
from implicit3d.stages import evaluate, train
points, mesh, out, name, model_cfg = json.loads(sys.argv[1])
info = train(points, mesh, out + ".pt", out + ".json", model_cfg, threads=1, progress=False)
metrics = evaluate(out + ".pt", out + ".json", points, out + "_eval.json", name, "release")
print(json.dumps({"info": {k: info[k] for k in ("train_seconds", "step_ms", "steps", "model_bytes")}, "metrics": metrics}))
"""


def train_here(model_cfg: dict, points: Path, mesh: Path, out: Path, name: str) -> tuple[dict, dict]:
    info = train(str(points), str(mesh), f"{out}.pt", f"{out}.json", model_cfg, threads=1, progress=False)
    return info, evaluate(f"{out}.pt", f"{out}.json", str(points), f"{out}_eval.json", name, out.name)


def train_release(tree: Path, model_cfg: dict, points: Path, mesh: Path, out: Path, name: str) -> tuple[dict, dict]:
    env = {**os.environ, "PYTHONPATH": str(tree / "src"), "OMP_NUM_THREADS": "1"}
    arg = json.dumps([str(points), str(mesh), str(out), name, model_cfg])
    done = subprocess.run([sys.executable, "-c", RELEASE_RUN, arg], cwd=tree, env=env, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"release tree {tree}: training {name} failed:\n{done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["info"], result["metrics"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--meshes", type=Path, default=REPO / ".." / "shared" / "data" / "test_task_meshes")
    parser.add_argument("--objects", default=SUBSET, help="comma-separated mesh stems")
    parser.add_argument("--models", default="hashgrid_previous,hashgrid", help="architectures of config/config.yaml")
    parser.add_argument("--baseline", default=BASELINE, help="git revision whose default model, trained by its own code, is the reference ('' for none: then the first of --models is)")
    args = parser.parse_args(argv)
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    for model in args.models.split(","):
        if model not in cfg["architectures"]:
            sys.exit(f"config/config.yaml: no architecture named {model}")
    found = named_meshes(args.meshes, args.objects.split(","))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        trainers = {}
        if args.baseline:
            tree = export(args.baseline, root / "release")
            release_cfg = yaml.safe_load((tree / "config" / "config.yaml").read_text())["architectures"]["hashgrid"]
            trainers[f"release {args.baseline} (its hashgrid)"] = lambda *a, t=tree, c=release_cfg: train_release(t, c, *a)
        for model in args.models.split(","):
            trainers[model] = lambda *a, c=cfg["architectures"][model]: train_here(c, *a)
        labels = list(trainers)
        for i, (name, source) in enumerate(found.items()):
            mesh, points = root / f"{name}.ply", root / f"{name}.parquet"
            normalize(str(source), str(mesh), str(root / f"{name}.json"))
            sample(str(mesh), str(points), cfg["sampling"])
            for j, label in enumerate(labels if i % 2 == 0 else labels[::-1]):  # alternate, so drift favours none
                info, metrics = trainers[label](points, mesh, root / f"run{j}_{name}", name)
                rows.append({"model": label, "object": name, "train s": info["train_seconds"], "step ms": info["step_ms"],
                             "steps": info["steps"], "model bytes": info["model_bytes"], "f1_near": metrics["f1_near"], "f1_volume": metrics["f1_volume"]})  # fmt: skip
                print(f"{name:>4} {label}: {info['train_seconds']:.1f} s, near {metrics['f1_near']:.4f}", file=sys.stderr, flush=True)
    print(summarize(pd.DataFrame(rows), labels).to_markdown(index=False))


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
