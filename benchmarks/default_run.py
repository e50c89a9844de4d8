"""The whole default run against the previous default's: raw meshes to summary, one after the other.

Each run is `snakemake results/summary.csv --cores N` with one model in a fresh tree with an empty
results/, so normalizing, sampling, training, evaluation and reconstruction are all counted:

- `release`: the project as it was before this default (`--baseline`, a git revision), with its
  own default model: the previous default as users ran it, code and all;
- `hashgrid_previous`: the previous default's model on this checkout's code;
- `hashgrid`: this checkout's default.

Prints wall times, their ratios to the first run, and each run's summary means (median train
seconds from the summary's train_seconds column).

    python benchmarks/default_run.py                          # the 50 reference meshes, 2 cores
    python benchmarks/default_run.py --objects 0,4,8,16 --cores 2
    python benchmarks/default_run.py --baseline ''            # this checkout only (no release run)
    python benchmarks/default_run.py --no-previous            # the release and this default only
    python benchmarks/default_run.py --keep results/default_run  # and keep each run's summary.csv
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from named_meshes import named_meshes  # noqa: E402
from scale import REPO, export, snakemake  # noqa: E402

sys.path.insert(0, str(REPO / "src"))
from implicit3d.summary import read_summary  # noqa: E402

BASELINE = "095634e"  # main before the 8-level default: its default model is the 12-level hash grid


def subset(meshes: Path, objects: str, root: Path) -> Path:
    """`meshes` itself, or a folder of links to the named objects' files, found as the workflow finds them."""
    if not objects:
        return meshes
    folder = root / "meshes"
    folder.mkdir()
    for path in named_meshes(meshes, objects.split(",")).values():
        (folder / path.name).symlink_to(path.resolve())
    return folder


def run(label: str, tree: Path, meshes: Path, model: str, cores: int, keep: Path | None = None) -> dict:
    shutil.rmtree(tree / "results", ignore_errors=True)
    shutil.rmtree(tree / ".snakemake", ignore_errors=True)
    seconds, _ = snakemake(tree, "results/summary.csv", "--cores", str(cores), "--config", f"meshes={meshes}", f"models=[{model}]", timeout=4 * 3600)
    summary = read_summary(tree / "results" / "summary.csv")
    if keep is not None:  # the run's summary, for per-object comparisons
        keep.mkdir(parents=True, exist_ok=True)
        shutil.copy(tree / "results" / "summary.csv", keep / f"{label.replace(' ', '_')}.csv")
    rows = summary[(summary["model"] == model) & (summary["object"] != "mean")]  # not the per-model mean row
    print(f"{label}: {seconds:.0f} s", file=sys.stderr, flush=True)
    return {
        "run": label,
        "model": model,
        "objects": len(rows),
        "wall s": round(seconds),
        "mean f1_near": round(rows["f1_near"].mean(), 4),
        "mean f1_volume": round(rows["f1_volume"].mean(), 4),
        "median train s": round(rows["train_seconds"].median(), 1),
        "max model bytes": int(rows["model_bytes"].max()),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--meshes", type=Path, default=REPO / ".." / "shared" / "data" / "test_task_meshes")
    parser.add_argument("--objects", default="", help="comma-separated mesh stems (default: every mesh)")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--baseline", default=BASELINE, help="git revision of the release run ('' to skip it)")
    parser.add_argument("--no-previous", action="store_true", help="skip the previous default's model on this code")
    parser.add_argument("--keep", type=Path, help="copy each run's summary.csv into this folder")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        meshes = subset(args.meshes.resolve(), args.objects, root)
        runs = [("release " + args.baseline, export(args.baseline, root / "release"), "hashgrid")] if args.baseline else []
        tree = export("WORKTREE", root / "tree")
        runs += [] if args.no_previous else [("hashgrid_previous", tree, "hashgrid_previous")]
        runs += [("hashgrid", tree, "hashgrid")]
        table = pd.DataFrame([run(label, where, meshes, model, args.cores, args.keep) for label, where, model in runs])
    base = table.iloc[0]
    table["wall ratio"] = (table["wall s"] / base["wall s"]).round(2)
    table["train ratio"] = (table["median train s"] / base["median train s"]).round(2)
    print(table.to_markdown(index=False))


if __name__ == "__main__":
    main()
