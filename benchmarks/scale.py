"""Planning a large collection: how long a dry run takes, how many cluster jobs each object costs, and what every job pays to start.

The collections are synthetic: `--sizes` objects as links to the built-in sample's meshes. Planning
is `snakemake -n --quiet` from an empty results/ (best of `--repeats`); jobs per object count the
jobs a cluster would run (every job but the local rules) at the smallest size; start-up is what a
cluster job pays to read the workflow and a step pays for Python and the package's imports. With
`--baseline REV`, that revision is measured the same way, side by side. `--nested-size N` also
builds a ShapeNetCore v2-shaped tree of N links beside a flat folder of as many, and times finding
the objects and the dry run (shards) for both, in this checkout. What a whole run costs (wall time,
bytes kept per object, each step's time) is `default_run.py`'s page.

    python benchmarks/scale.py                          # 1,000 and 10,000 objects; nested ids at 50,000
    python benchmarks/scale.py --sizes 1000 --baseline v0.1.0 --repeats 3 --nested-size 0
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from harness import SAMPLE_MESHES, Bench, parser, working_copy
from harness.workflow import SNAKEMAKE, STEP_IMPORTS, job_counts, local_rules, snakemake, start_seconds

from implicit3d.workflow import load_collection


def main(argv: list[str] | None = None) -> None:
    p = parser(__doc__, meshes=False, baseline=True)
    p.add_argument("--sizes", default="1000,10000", help="collection sizes to plan")
    p.add_argument("--repeats", type=int, default=1, help="dry runs per version and size, and start-up measures (best taken)")
    p.add_argument("--nested-size", type=int, default=50_000, help="objects of the flat folder and the ShapeNet-shaped tree compared (0: skip)")
    args = p.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    with Bench(__file__, __doc__, args, argv) as b, b.baseline() as baseline, tempfile.TemporaryDirectory() as tmp:
        trees = {"this checkout": working_copy(Path(tmp) / "this")} | ({f"{args.baseline} ({baseline.name})": baseline} if baseline else {})

        def add(measure: str, version: str, value) -> None:
            rows.append({"measure": measure, "version": version, "value": value})

        for size in sizes:
            meshes = collection(Path(tmp), size)
            for version, tree in trees.items():
                seconds = min(planning(tree, meshes) for _ in range(args.repeats))
                add(f"plan {size:,} objects (s)", version, round(seconds, 2))
                print(f"planned {size} objects with {version}: {seconds:.1f} s", file=sys.stderr, flush=True)
        if args.nested_size:  # this checkout only: earlier versions read flat folders alone
            shaped = {"flat folder": collection(Path(tmp), args.nested_size), "ShapeNet-shaped tree": shapenet_tree(Path(tmp), args.nested_size)}
            for layout, meshes in shaped.items():
                for measure, seconds in (("find the objects", discovery(meshes, max(args.repeats, 3))), ("dry run, shards", planning(trees["this checkout"], meshes))):
                    add(f"{measure}, {args.nested_size:,} objects (s)", f"this checkout, {layout}", round(seconds, 2))
        for version, tree in trees.items():
            jobs = {rule: n for rule, n in job_counts(snakemake(tree, "-n", "--cores", "2", "--config", f"meshes={collection(Path(tmp), min(sizes))}")[1]).items()
                    if rule not in local_rules(tree)}  # fmt: skip
            add("cluster jobs per object", version, round(sum(jobs.values()) / min(sizes), 3))
            for what, seconds in startup(tree, collection(Path(tmp), max(sizes)), args.repeats).items():
                add(f"job start: {what} (s)", version, round(seconds, 2))
        table = pd.DataFrame(rows).pivot_table(index="measure", columns="version", values="value", aggfunc="first", sort=False)
        b.page("Planning a large collection", [("", table.reset_index().rename_axis(columns=None))])


def collection(root: Path, size: int) -> Path:
    """`size` links to the built-in sample's meshes, made once."""
    folder = root / f"collection_{size}"
    if not folder.exists():
        folder.mkdir(parents=True)
        meshes = sorted(SAMPLE_MESHES.glob("*.ply"))
        for i in range(size):
            (folder / f"obj{i:05d}.ply").symlink_to(meshes[i % len(meshes)])
    return folder


def shapenet_tree(root: Path, size: int) -> Path:
    """A ShapeNetCore v2-shaped tree of `size` links: <synset>/<model id>/models/model_normalized.obj
    (plus the .mtl beside it that a run skips), over 5 synsets."""
    folder = root / f"shapenet_{size}"
    if not folder.exists():
        meshes = sorted(SAMPLE_MESHES.glob("*.ply"))
        synsets = ("02691156", "02828884", "02933112", "03001627", "04379243")
        for i in range(size):
            model_id = hashlib.md5(str(i).encode()).hexdigest()  # 32 hex digits, as ShapeNet's ids
            models = folder / synsets[i % len(synsets)] / model_id / "models"
            models.mkdir(parents=True)
            (models / "model_normalized.obj").symlink_to(meshes[i % len(meshes)])
            (models / "model_normalized.mtl").symlink_to(meshes[i % len(meshes)])
    return folder


def discovery(meshes: Path, repeats: int) -> float:
    """Seconds to find a collection's objects (implicit3d.workflow.load_collection), best of `repeats`."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        load_collection({"meshes": str(meshes)})
        times.append(time.perf_counter() - start)
    return min(times)


def planning(tree: Path, meshes: Path) -> float:
    for folder in ("results", ".snakemake"):
        shutil.rmtree(tree / folder, ignore_errors=True)
    return snakemake(tree, "-n", "--cores", "2", "--quiet", "--config", f"meshes={meshes}")[0]


def startup(tree: Path, meshes: Path, repeats: int) -> dict[str, float]:
    """Best of `repeats`: a cluster job's Snakemake reading the workflow and collection, a step's Python with the package's imports."""
    return {
        "snakemake reading the workflow": start_seconds(tree, [str(SNAKEMAKE), "--list-rules", "--config", f"meshes={meshes}"], repeats),
        "python + implicit3d.stages": start_seconds(tree, [sys.executable, "-c", "import implicit3d.stages"], repeats),
        "python + implicit3d.stages + torch": start_seconds(tree, STEP_IMPORTS, repeats),
    }


if __name__ == "__main__":
    main()
