"""`implicit3d collection` (what a run would take from a folder or manifest) and `implicit3d fit`
(one mesh through the whole chain, without the workflow)."""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path

from .errors import Implicit3DError, UsageError

FIT_COLUMNS = ("f1_near", "f1_volume", "model_bytes", "train_seconds", "infer_points_per_s", "chamfer", "normal_consistency")


def add_parsers(sub) -> None:
    from .collection import LAYOUTS

    config_help = "merged over config/config.yaml in order, as with snakemake --configfile"
    p = sub.add_parser("collection", help="what a run would take from a folder or manifest: layout, categories, ids, skipped files")
    p.add_argument("source", nargs="?", help="folder or manifest (default: the config's `meshes`)")
    p.add_argument("--layout", choices=LAYOUTS, help="default: the config's `layout` (auto)")
    p.add_argument("--category", action="append", default=None, metavar="NAME", help="select.categories (repeatable)")
    p.add_argument("--include", action="append", default=None, metavar="GLOB", help="select.include (repeatable)")
    p.add_argument("--exclude", action="append", default=None, metavar="GLOB", help="select.exclude (repeatable)")
    p.add_argument("--limit", type=int, help="select.limit")
    p.add_argument("--limit-per-category", type=int, help="select.limit_per_category")
    p.add_argument("--seed", type=int, help="select.seed")
    p.add_argument("--configfile", nargs="+", action="extend", default=[], metavar="FILE", help=config_help)
    p.add_argument("--all", action="store_true", help="list every skipped file, not the first 20")
    p.add_argument("--manifest", metavar="OUT.csv", help="also write the objects as a manifest (object, category, split, path)")

    p = sub.add_parser("fit", help="one mesh through the whole chain (normalize, sample, train, evaluate), no workflow")
    p.add_argument("mesh")
    p.add_argument("-o", "--output", required=True, help="results folder: the files land where the workflow puts them under results/")
    p.add_argument("--object", help="object id (default: the id its dataset layout gives it, e.g. ShapeNet's 02691156/<model>; else the file name)")
    p.add_argument("--model", action="append", default=None, metavar="NAME", help="architecture to train (repeatable; default: the config's `models`)")
    p.add_argument("--reconstruct", action="store_true", help="also marching cubes, Chamfer distance and normal consistency")
    p.add_argument("--figures", action="store_true", help="also the figures (SDF slices, rendering, sphere tracing; implies --reconstruct)")
    p.add_argument("--configfile", nargs="+", action="extend", default=[], metavar="FILE", help=config_help)
    p.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE", help="one value, read as YAML (repeatable)")


def _config(configfiles, sets=()) -> dict:
    from .config import project_root, resolve_config

    return resolve_config(project_root(), configfiles, sets)[0]


def collection_command(args) -> int:
    from .collection import Selection, load
    from .collection.table import describe, write_collection

    config = _config(args.configfile)
    select = dict(config.get("select") or {})
    flags = {"categories": args.category, "include": args.include, "exclude": args.exclude, "limit": args.limit,
             "limit_per_category": args.limit_per_category, "seed": args.seed}  # fmt: skip
    select.update({k: v for k, v in flags.items() if v is not None})
    selection = Selection.from_config(select)
    source = args.source or config["meshes"]
    found = load(source, args.layout or config.get("layout", "auto"), config.get("ignore", []), selection)
    print(describe(found, selection, skipped=len(found.skipped) if args.all else 20))
    if args.manifest:
        # Paths relative to the manifest's folder, as a manifest's are read.
        base = Path(os.path.abspath(args.manifest)).parent
        rows = [replace(e, path=os.path.relpath(os.path.abspath(e.path), base)) for e in found.entries]
        write_collection(replace(found, entries=rows), args.manifest)
        print(f"wrote {args.manifest}: {len(rows):,} objects (use it as `meshes: {args.manifest}`)")
    return 0


def fit_command(args) -> int:
    from .chain import fit_object
    from .collection.ids import id_problem
    from .collection.layouts import object_id_of
    from .products import FIGURE_KINDS, Products

    config = _config(args.configfile, args.set)
    mesh = Path(args.mesh)
    if not mesh.is_file():
        raise Implicit3DError(f"{mesh}: file not found")
    object_id = args.object or object_id_of(mesh)
    problem = id_problem(object_id)
    if problem:
        raise UsageError(f"--object: {problem}")
    for model in args.model or []:
        if model not in config["architectures"]:
            raise UsageError(f"--model: '{model}' is not defined under architectures (have: {', '.join(config['architectures'])})")
    print(f"fit {mesh} as object '{object_id}' -> {args.output}", flush=True)
    products = Products(reconstruction=args.reconstruct or args.figures, figures=FIGURE_KINDS if args.figures else (), viewer=False)
    records = fit_object(mesh, args.output, object_id, config, args.model, products, report=lambda line: print(line, flush=True))
    print(_metrics_table(records))
    sys.stdout.flush()
    return 0


def _metrics_table(records: list[dict]) -> str:
    columns = [c for c in FIT_COLUMNS if any(c in r for r in records)]
    lines = ["| model | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    for r in records:
        cells = [f"{r[c]:,.0f}" if c in ("model_bytes", "infer_points_per_s") else f"{r[c]:.4f}" if isinstance(r.get(c), float) else str(r.get(c, "")) for c in columns]
        lines.append(f"| {r['model']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
