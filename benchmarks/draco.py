"""The model against its mesh compressed with Draco (Google's mesh codec, the glTF standard): stored bytes and occupancy F1 of both on each object's own test points.

Each object's normalized mesh (what its model learns) is Draco-coded at every `--bits` position
quantization (compression level `--level`, 10 the strongest) and decoded. The project's ground
truth, with the method, sign and seal of the object's samples file, labels the object's test points
on the decoded mesh, and these labels are scored against the stored ones as the evaluate stage
scores a model (inside: SDF < 0). Beside it, each of `--models`: its stored bytes and its F1 on the
same points, trained here through the train and evaluate stages, or with `--run DIR` read from a
finished workflow run's results folder (summary.csv, samples/, normalized/) without training.
The page counts, per quantization, the objects where the model is both smaller than the Draco file
and at least as good near the surface, and draws bytes against F1 near (draco.png beside it).

Needs DracoPy (the `bench` extra, in the lock; `make setup` installs it).

    python benchmarks/draco.py                                  # the 12 objects of SUBSET, the default model trained here
    python benchmarks/draco.py --run results                    # every object of a finished run, its models as stored
    python benchmarks/draco.py --run results --objects 0,16 --bits 10,11 --threads 2
    python benchmarks/draco.py --models hashgrid,hashgrid_r512_float --bits 10 --page draco_ceiling

Besides config/config.yaml's architectures, `--models` takes the hash grids of UNBOUNDED: finer
and larger than the default, stored in float32 without coding. They show the F1 the family reaches
when bytes do not count, against the Draco mesh on the same points.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import trimesh
from harness import SUBSET, Bench, natural, parser, renamed

from implicit3d.groundtruth import compute_sdf_guarded, set_threads
from implicit3d.io import read_points, read_points_metadata
from implicit3d.mesh import mesh_digest
from implicit3d.meshfile import kept_mesh, read_mesh
from implicit3d.metrics import occupancy_metrics
from implicit3d.sampling import SamplingSpec, ground_truth
from implicit3d.summary import read_summary

KINDS = ("near", "volume")
# name: (architecture, changes to its params, changes to its training). No byte budget: 12 levels up to
# 512 cells across, 2^17 rows each, a 64-wide head, float32 uncoded (about 9 MB); the default's recipe.
UNBOUNDED = {
    "hashgrid_r512_float": ("hashgrid", {"levels": 12, "log2_table": 17, "max_resolution": 512, "hidden": 64},
                            {"weight_dtype": "float32", "weight_coding": "none"}),
}


def dracopy_missing() -> str | None:
    """Why this benchmark cannot run here, in one line, or None."""
    try:
        import DracoPy  # noqa: F401
    except ImportError:
        return "DracoPy is not installed (the bench extra, in requirements/lock.txt: run `make setup`)"
    return None


@dataclass(frozen=True)
class Target:
    """One object: its normalized mesh file, its samples file (the test points, labelled), and a row
    per model (route, bytes, f1_near, f1_volume)."""

    name: str
    mesh: Path
    points: Path
    models: list[dict]


def main(argv: list[str] | None = None) -> None:
    p = parser(__doc__, objects=SUBSET)
    p.add_argument("--run", type=Path, help="a finished workflow run's results folder: its models, test points and normalized meshes are "
                                            "used as they are, nothing is trained (default objects: every object of its summary.csv)")  # fmt: skip
    p.add_argument("--models", default="hashgrid", help=f"architectures of config/config.yaml or of {', '.join(UNBOUNDED)} to train, "
                                                         "or with --run models of its summary (default: hashgrid)")  # fmt: skip
    p.add_argument("--bits", default="8,10,11,14", help="Draco position quantizations, in bits (default: 8,10,11,14)")
    p.add_argument("--level", type=int, default=10, choices=range(11), metavar="0-10", help="Draco compression level (default: 10, the strongest)")
    p.add_argument("--threads", type=int, default=1, help="threads of the ground truth (and of each training) (default: 1)")
    p.add_argument("--page", default="draco", help="name of the page and of its figure in --out (default: draco)")
    p.set_defaults(objects=None)  # unset: SUBSET, or with --run every object of the run
    args = p.parse_args(argv)
    if missing := dracopy_missing():
        sys.exit(f"draco: {missing}")
    bits = [int(b) for b in args.bits.split(",")]
    set_threads(args.threads)
    with Bench(__file__, __doc__, args, argv) as b:
        if args.run:
            models = args.models.split(",")
            targets = from_run(args.run, models, [o for o in (args.objects or "").split(",") if o])
            source = f"read from the run in `{args.run}` (its summary.csv, samples and normalized meshes)"
        else:
            args.objects = SUBSET if args.objects is None else args.objects
            models = [renamed(m) for m in args.models.split(",")]
            targets = trained(b, models, args.threads)
            source = "trained here by the train and evaluate stages, config/config.yaml's recipe"
        rows = []
        for target in targets:
            frame, meta = read_points(target.points)
            test = frame[frame["split"] == "test"].reset_index(drop=True)
            found = target.models + draco_rows(read_mesh(target.mesh), test, meta["sampling"], bits, args.level)
            rows += [{"object": target.name, "ground truth": convention(meta), **row} for row in found]
            print(f"{target.name:>4}: " + ", ".join(f"{r['route']} {r['bytes']:,} B {r['f1_near']:.4f}" for r in found), file=sys.stderr, flush=True)
        runs = pd.DataFrame(rows)
        routes = [model_route(m) for m in models]
        figure = args.out / f"{args.page}.png"
        draw(runs, routes, figure)
        setup = (f"Models: {', '.join(models)}, {source}. Draco: compression level {args.level}, positions only. Ground truth on the "
                 f"decoded meshes: {', '.join(sorted(runs['ground truth'].unique()))}, {args.threads} thread(s).")  # fmt: skip
        sections = [("Setup", setup), ("Means per route", means(runs)),
                    ("Where the model is smaller and at least as good", wins(runs, routes)),
                    ("Bytes against F1 near the surface", f"![bytes against F1 near the surface, per object and in the mean]({figure.name})")]  # fmt: skip
        sections += [(f"Object {name}", per_object(part, routes)) for name, part in runs.groupby("object", sort=False)]
        b.page("The model against the Draco-compressed mesh", sections, name=args.page)


def trained(b: Bench, models: list[str], threads: int) -> Iterator[Target]:
    """Each object normalized and sampled, then each model trained and tested on it, by the stages."""
    variants = [b.variant(model, *UNBOUNDED[model]) if model in UNBOUNDED else b.variant(model, model) for model in models]
    for name, source in b.meshes().items():
        prepared = b.prepare(name, source)
        yield Target(name, prepared.mesh, prepared.points, [model_row(v.label, b.train(prepared, v, threads)) for v in variants])


def from_run(run: Path, models: list[str], objects: list[str]) -> list[Target]:
    """The objects of a finished run (`objects`, or all of its summary), its models' rows from its
    summary; every file is checked before anything is measured, so a bad folder fails at once."""
    summary_file = run / "summary.csv"
    if not summary_file.is_file():
        sys.exit(f"error: {summary_file}: not found (--run takes a workflow run's results folder)")
    summary = read_summary(summary_file)
    summary = summary[summary["object"] != "mean"]
    if absent := [m for m in models if m not in set(summary["model"])]:
        sys.exit(f"error: {summary_file}: no model named {', '.join(absent)} (it has {', '.join(sorted(set(summary['model'])))})")
    targets = []
    for name in objects or sorted(set(summary["object"]), key=natural):
        rows = summary[summary["object"] == name].set_index("model")
        if rows.empty:
            sys.exit(f"error: {summary_file}: no object named {name}")
        if absent := [m for m in models if m not in rows.index]:
            sys.exit(f"error: {summary_file}: no row for object {name} and model {', '.join(absent)}")
        points = run_samples(run, name, float(rows["inside_fraction_volume"].iloc[0]))
        mesh = kept_mesh(run / "normalized", name)
        if not mesh.is_file():
            sys.exit(f"error: {mesh}: not found (the run's normalized mesh of object {name})")
        if mesh_digest(read_mesh(mesh)) != read_points_metadata(points).get("mesh_digest"):
            sys.exit(f"error: {mesh}: not the mesh the samples {points} were drawn from (their mesh digests differ)")
        targets.append(Target(name, mesh, points, [model_row(m, rows.loc[m]) for m in models]))
    return targets


def run_samples(run: Path, name: str, inside_fraction: float) -> Path:
    """The run's samples file of `name`. A results folder keeps the samples of every sampling config
    it ran with (samples/<tag>/); the run's are those whose test volume points are inside in the
    fraction its summary reports."""
    found = sorted((run / "samples").glob(f"*/{name}.parquet"))
    for path in found:
        frame, _ = read_points(path)
        volume = frame[(frame["split"] == "test") & (frame["kind"] == "volume")]
        if np.isclose((volume["sdf"] < 0).mean(), inside_fraction, rtol=0, atol=1e-9):
            return path
    where = ", ".join(str(p) for p in found) or f"none in {run / 'samples'}"
    sys.exit(f"error: object {name}: no samples file whose volume points are inside in the summary's fraction {inside_fraction} ({where})")


def model_route(model: str) -> str:
    return f"model {model}"


def model_row(model: str, record) -> dict:
    """A model's route row from an evaluate-stage record (a train row or a summary row)."""
    return {"route": model_route(model), "bytes": int(record["model_bytes"]), "f1_near": float(record["f1_near"]), "f1_volume": float(record["f1_volume"])}


def convention(meta: dict) -> str:
    sampling = meta["sampling"]
    return f"method {sampling.get('method')}, sign {sampling.get('sign')}, seal {sampling.get('seal')}"


def draco_rows(mesh: trimesh.Trimesh, test: pd.DataFrame, sampling: dict, bits: list[int], level: int) -> list[dict]:
    """Per quantization: the Draco file's bytes and the F1 of the test points labelled on its decoded mesh
    (points the ground truth's guards leave unlabelled count as outside; `unlabelled` says how many)."""
    import DracoPy

    vertices, faces = np.asarray(mesh.vertices, np.float32), np.asarray(mesh.faces, np.uint32)
    points = test[["x", "y", "z"]].to_numpy(np.float64)
    spec = SamplingSpec.from_config(sampling)
    rows = []
    for b in bits:
        data = DracoPy.encode(vertices, faces, quantization_bits=b, compression_level=level)
        decoded = DracoPy.decode(data)
        back = trimesh.Trimesh(np.asarray(decoded.points, np.float64), np.asarray(decoded.faces, np.int64), process=False)
        sdf, stats = compute_sdf_guarded(ground_truth(back, spec), points)
        scores = {f"f1_{kind}": occupancy_metrics(test["sdf"].to_numpy()[part], sdf[part])["f1"] for kind in KINDS if (part := (test["kind"] == kind).to_numpy()).any()}
        rows.append({"route": f"Draco {b} bits", "bytes": len(data), **scores, "unlabelled": stats["dropped"]})
    return rows


def means(runs: pd.DataFrame) -> pd.DataFrame:
    return runs.groupby("route", sort=False).agg(
        objects=("object", "size"), mean_bytes=("bytes", "mean"), median_bytes=("bytes", "median"), max_bytes=("bytes", "max"),
        mean_f1_near=("f1_near", "mean"), mean_f1_volume=("f1_volume", "mean"), min_f1_near=("f1_near", "min"),
    ).reset_index().round({"mean_bytes": 0, "median_bytes": 0, "mean_f1_near": 4, "mean_f1_volume": 4, "min_f1_near": 4})  # fmt: skip


def beats(runs: pd.DataFrame, model: str, draco: str) -> pd.DataFrame:
    """Per object: whether `model` is smaller than the `draco` route's file, and at least as good near and in the volume."""
    wide = runs.pivot(index="object", columns="route", values=["bytes", "f1_near", "f1_volume"])
    return pd.DataFrame({"smaller": wide["bytes"][model] < wide["bytes"][draco], "near": wide["f1_near"][model] >= wide["f1_near"][draco],
                         "volume": wide["f1_volume"][model] >= wide["f1_volume"][draco]})  # fmt: skip


def draco_routes(runs: pd.DataFrame) -> list[str]:
    return [r for r in runs["route"].unique() if r.startswith("Draco")]


def wins(runs: pd.DataFrame, routes: list[str]) -> pd.DataFrame:
    """Per model and Draco quantization: on how many objects the model is smaller, at least as good near the surface, and both."""
    rows = []
    for model in routes:
        for draco in draco_routes(runs):
            won = beats(runs, model, draco)
            rows.append({"model": model, "against": draco, "objects": len(won), "model smaller": int(won.smaller.sum()),
                         "F1 near at least Draco's": int(won.near.sum()), "smaller and F1 near at least": int((won.smaller & won.near).sum()),
                         "smaller, F1 near and volume at least": int((won.smaller & won.near & won.volume).sum())})  # fmt: skip
    return pd.DataFrame(rows)


def per_object(part: pd.DataFrame, routes: list[str]) -> pd.DataFrame:
    """One object's routes; on each Draco row, whether each model is smaller and at least as good near the surface."""
    table = part[["route", "bytes", "f1_near", "f1_volume", "unlabelled"]].round({"f1_near": 4, "f1_volume": 4}).reset_index(drop=True)
    for model in routes:
        won = {draco: beats(part, model, draco) for draco in draco_routes(part)}
        table[f"{model}: smaller and F1 near at least"] = [
            ("yes" if (won[r].smaller & won[r].near).iloc[0] else "no") if r in won else None for r in table["route"]
        ]
    return table


def draw(runs: pd.DataFrame, routes: list[str], out: Path) -> None:
    """Bytes against F1 near: each object's point per route, faint, and the means over the objects (Draco's joined across quantizations)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = means(runs).set_index("route")
    fig, ax = plt.subplots(figsize=(7.5, 4.8), constrained_layout=True)
    groups = [(model, [model], "s") for model in routes] + [("Draco (mesh)", draco_routes(runs), "o")]
    for (label, members, marker), color in zip(groups, plt.rcParams["axes.prop_cycle"].by_key()["color"], strict=False):
        each = runs[runs["route"].isin(members)]
        ax.scatter(each["bytes"] / 1024, each["f1_near"], s=10, alpha=0.35, color=color, marker=marker)
        mean = table.loc[members]
        ax.plot(mean["mean_bytes"] / 1024, mean["mean_f1_near"], marker=marker, markersize=8, color=color, label=f"{label}, mean")
        for route, row in mean.iterrows() if len(members) > 1 else ():  # the quantizations; a model is named in the legend
            ax.annotate(route.removeprefix("Draco "), (row["mean_bytes"] / 1024, row["mean_f1_near"]), textcoords="offset points", xytext=(5, -11), fontsize=8)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("stored bytes per object (KiB)")
    ax.set_ylabel("F1 near the surface")
    ax.set_title(f"bytes against F1 near the surface, {runs['object'].nunique()} objects (faint: each object)")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
