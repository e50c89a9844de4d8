"""Command-line interface: `implicit3d <command> --help`."""

from __future__ import annotations

import argparse
import pickle
import sys
from pathlib import Path

import numpy as np

from . import __version__
from .cli_collection import add_parsers as add_collection_parsers
from .cli_collection import collection_command, fit_command
from .errors import Implicit3DError, UsageError, first_line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="implicit3d",
        description="Neural SDFs for mesh collections.",
        epilog="Exit status: 0 done; 1 the command could not do its work (a missing, unreadable or invalid file, a failed "
        "stage); 2 a usage error (an unknown option, a bad value or combination of values, a bad configuration).",
    )
    parser.add_argument("--version", action="version", version=f"implicit3d {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("normalize", help="clean a mesh and scale it into the unit sphere")
    p.add_argument("mesh")
    p.add_argument("-o", "--output", required=True, help="normalized mesh (.ply, or .ply.xz: xz-compressed as a run keeps it)")
    p.add_argument("--transform", help="transform JSON (default: OUTPUT with .json)")
    p.add_argument("--max-faces", type=int, default=None)
    p.add_argument("--decimate", action="store_true", help="simplify a mesh above --max-faces instead of failing")

    p = sub.add_parser("sdf", help="ground-truth SDF of a mesh at points (N,3 .npy)")
    p.add_argument("mesh")
    p.add_argument("points", help=".npy file with an (N, 3) float array")
    p.add_argument("-o", "--output", required=True, help=".npy file for the (N,) SDF, negative inside")
    _add_truth_options(p)
    p.add_argument("--frame", choices=["normalized", "original"], default="normalized",
                   help="frame of POINTS and of the output distances (default: normalized)")

    _add_result_commands(sub)

    p = sub.add_parser("points", help="a samples file's points and SDF as plain arrays (.npz), CSV or float32 Parquet, for other tools")
    p.add_argument("samples", help="samples .parquet (results/samples/<tag>/<object>.parquet)")
    p.add_argument("-o", "--output", required=True, help="out.npz (points (N, 3), sdf, split, kind, std), out.csv, or out.parquet (float32 columns)")

    p = sub.add_parser("export", help="a trained model as ONNX (.onnx) or as NumPy arrays for implicit3d.portable (.npz)")
    p.add_argument("model", help="trained model (.pt)")
    p.add_argument("-o", "--output", required=True, help="out.onnx (any ONNX runtime) or out.npz (implicit3d.portable, NumPy only)")

    p = sub.add_parser("config", help="every config key with the value a run would use; --markdown: the reference")
    p.add_argument("--configfile", nargs="+", action="extend", default=[], metavar="FILE",
                   help="merged over config/config.yaml in order, as with snakemake --configfile")
    p.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE",
                   help="one value, read as YAML, e.g. --set sampling.seed=3 (repeatable; applied last)")
    p.add_argument("--markdown", action="store_true", help="print config/README.md, generated from config/schema.yaml")

    add_collection_parsers(sub)

    args = parser.parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except Implicit3DError as exc:
        print(f"implicit3d {args.command}: error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, UsageError) else 1


def _normalize(args) -> int:
    from .formats import MESH_SUFFIX
    from .stages import normalize

    out = str(args.output)
    transform = args.transform or (out[: -len(MESH_SUFFIX)] if out.lower().endswith(MESH_SUFFIX) else out.rsplit(".", 1)[0]) + ".json"
    info = normalize(args.mesh, args.output, transform, max_faces=args.max_faces, decimate=args.decimate)
    print(f"{args.output}: {info['faces']} faces, scale {info['scale']:.6g}")
    return 0


def _add_truth_options(p) -> None:
    from .groundtruth import DEFAULT_METHOD, DEFAULT_SEAL, DEFAULT_SIGN, METHODS, SIGNS

    p.add_argument("--method", choices=METHODS, default=DEFAULT_METHOD, help=f"ground-truth method (default: {DEFAULT_METHOD})")
    p.add_argument("--sign", choices=SIGNS, default=DEFAULT_SIGN,
                   help=f"sign convention of the exact method: filled (enclosed cavities inside) or solid (default: {DEFAULT_SIGN})")
    p.add_argument("--seal", type=float, default=DEFAULT_SEAL,
                   help=f"filled: openings narrower than this (normalized frame) count as closed (default: {DEFAULT_SEAL})")


def _truth(mesh, args):
    from .groundtruth import GroundTruth

    try:
        return GroundTruth(mesh, args.method, args.sign, args.seal)
    except ValueError as exc:
        raise Implicit3DError(str(exc)) from None


def _sdf(args) -> int:
    from .mesh import clean_mesh, load_mesh, normalize_mesh

    points = _load_points(args.points)
    mesh, transform = normalize_mesh(clean_mesh(load_mesh(args.mesh), args.mesh))
    if args.frame == "original":
        points = transform.to_normalized(points)
    sdf = _truth(mesh, args).sdf(points)
    if args.frame == "original":
        sdf = sdf * transform.scale
    _save_npy(args.output, sdf)
    print(f"{args.output}: {len(sdf)} values, {(sdf < 0).mean():.2%} inside ({args.method}, {args.sign} sign)")
    return 0


def _save_npy(path: str, array: np.ndarray) -> None:
    """np.save (which adds .npy to a name without it), written atomically."""
    from .io import atomic_path

    with atomic_path(path if str(path).endswith(".npy") else f"{path}.npy") as tmp, open(tmp, "wb") as f:
        np.save(f, array)


def _load_points(path: str) -> np.ndarray:
    try:
        points = np.load(path)
    except Exception as exc:
        raise Implicit3DError(f"{path}: cannot read points ({exc})") from None
    if not isinstance(points, np.ndarray):  # np.load opens .npz (and other zip files) as an archive
        raise Implicit3DError(f"{path}: expected one .npy array, got a {type(points).__name__}")
    if points.ndim != 2 or points.shape[1] != 3:
        raise Implicit3DError(f"{path}: expected an (N, 3) array, got shape {points.shape}")
    return points.astype(np.float64)


def _add_result_commands(sub) -> None:
    """predict, mesh and evaluate: use a trained model (results/models/<model>/<tag>/<object>.pt)."""
    frame_help = "frame of POINTS and of the output distances (default: normalized)"
    transform_help = "the object's transform JSON (results/normalized/<object>.json); needed with --frame original"

    p = sub.add_parser("predict", help="a trained model's SDF at points (.npy or a samples .parquet)")
    p.add_argument("model", help="trained model (.pt)")
    p.add_argument("points", help=".npy file with an (N, 3) float array, or a samples .parquet (x, y, z columns)")
    p.add_argument("-o", "--output", required=True, help=".npy file for the (N,) SDF, negative inside")
    p.add_argument("--split", choices=["train", "val", "test"], help="with a .parquet: only this split's rows, in file order (the pipeline's hold the test split)")
    p.add_argument("--frame", choices=["normalized", "original"], default="normalized", help=frame_help)
    p.add_argument("--transform", help=transform_help)
    p.add_argument("--device", default="cpu", help="cpu (default, as the evaluate stage), cuda or auto")

    p = sub.add_parser("mesh", help="marching cubes of a trained model's zero level set (.ply)")
    p.add_argument("model", help="trained model (.pt)")
    p.add_argument("-o", "--output", required=True, help="output mesh (.ply, .ply.xz, .obj, .stl, .off)")
    p.add_argument("--resolution", type=int, default=128, help="grid points per axis (default: 128)")
    p.add_argument("--domain", choices=["sphere", "cube", "none"], default="sphere",
                   help="clip to the volume the model was trained in (default: sphere; none: raw level set)")
    p.add_argument("--frame", choices=["normalized", "original"], default="normalized", help="frame of the output mesh")
    p.add_argument("--transform", help=transform_help)
    p.add_argument("--device", default="cpu", help="cpu (default), cuda or auto")

    p = sub.add_parser("evaluate", help="metrics of a trained model for one object, as a table or JSON")
    p.add_argument("model", help="trained model (.pt)")
    p.add_argument("target", help="the object's samples .parquet (metrics on its test split, as the pipeline), "
                                  "or its mesh (normalized as the pipeline does; test points sampled afresh)")
    p.add_argument("--mesh", help="with a .parquet: the normalized mesh, for Chamfer distance and normal consistency")
    p.add_argument("--resolution", type=int, default=128, help="marching-cubes resolution for the surface metrics (0: skip them)")
    p.add_argument("--surface-points", type=int, default=100_000, help="points per surface for the surface metrics")
    p.add_argument("--count", type=int, default=50_000, help="with a mesh: near-surface and volume test points each (default: 50000)")
    p.add_argument("--std", type=float, default=0.01, help="with a mesh: noise std of the near-surface points (default: 0.01)")
    p.add_argument("--volume", choices=["sphere", "cube"], default=None, help="sampled volume (default: the parquet's, else sphere)")
    p.add_argument("--seed", type=int, default=0, help="with a mesh: sampling seed (default: 0, as the pipeline's test split)")
    _add_truth_options(p)
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _predict(args) -> int:
    from .evaluation import predict_numpy
    from .training import resolve_device

    transform = _transform_for(args)
    points = _load_points_any(args.points, args.split)
    if transform is not None:
        points = transform.to_normalized(points)
    device = resolve_device(args.device)
    model = _load_trained(args.model, device)
    sdf = predict_numpy(model, points, device)
    if transform is not None:
        sdf = sdf * transform.scale  # distances scale with the frame
    _save_npy(args.output, sdf)
    print(f"{args.output}: {len(sdf)} values, {(sdf < 0).mean() if len(sdf) else 0:.2%} inside")
    return 0


def _mesh(args) -> int:
    from .meshfile import write_mesh
    from .reconstruct import reconstruct_mesh
    from .training import resolve_device

    transform = _transform_for(args)
    device = resolve_device(args.device)
    mesh = reconstruct_mesh(_load_trained(args.model, device), args.resolution, args.domain, device)
    if mesh is None:
        print(f"implicit3d mesh: note: empty level set (the model predicts no inside on the {args.resolution}^3 grid); "
              f"{args.output} has no faces", file=sys.stderr)
    elif transform is not None:
        mesh.vertices = transform.to_original(mesh.vertices)
    write_mesh(args.output, mesh)
    print(f"{args.output}: {0 if mesh is None else len(mesh.faces)} faces")
    return 0


def _evaluate(args) -> int:
    import json

    from .evaluation import evaluate_points
    from .reconstruct import reconstruct_mesh, surface_metrics

    model = _load_trained(args.model, "cpu")
    if str(args.target).endswith(".parquet"):
        from .groundtruth import GroundTruth

        test, meta = _read_samples(args.target)
        test = test[test["split"] == "test"]
        volume = args.volume or meta.get("sampling", {}).get("volume", "sphere")
        # Chamfer against the surface of the ground truth the samples were made with.
        truth = GroundTruth.from_config(_load_normalized_mesh(args.mesh), meta.get("sampling", {})).surface if args.mesh else None
    else:
        from .sampling import SamplingSpec, SplitSpec, sample_splits

        # The test split as the sample stage draws it, with these counts, noise, volume and seed.
        mesh, split = _load_normalized_mesh(args.target), SplitSpec(args.count, (args.std,), args.count)
        volume = args.volume or "sphere"
        spec = SamplingSpec(split, split, split, volume, args.method, args.sign, args.seal, args.seed)
        ground = _truth(mesh, args)
        test, _ = sample_splits(mesh, spec, ("test",), ground)
        truth = ground.surface
    if len(test) == 0:
        raise Implicit3DError(f"{args.target}: no test points")
    metrics = evaluate_points(model, test)
    if truth is not None and args.resolution > 0:
        metrics.update(surface_metrics(reconstruct_mesh(model, args.resolution, volume), truth, args.surface_points))
    if args.json:
        print(json.dumps(metrics, indent=2, sort_keys=True))
    else:
        width = max(len(k) for k in metrics)
        for key in sorted(k for k, v in metrics.items() if v is not None):
            value = metrics[key]
            print(f"{key:<{width}}  {value:.6f}" if isinstance(value, float) else f"{key:<{width}}  {value}")
    return 0


def _load_trained(path: str, device, with_info: bool = False):
    from .training import load_model

    try:
        model, info = load_model(path, device)
    except FileNotFoundError:
        raise Implicit3DError(f"{path}: model file not found") from None
    except (pickle.UnpicklingError, RuntimeError, EOFError):
        raise Implicit3DError(f"{path}: not a model checkpoint (torch.load cannot read it)") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise Implicit3DError(f"{path}: not an implicit3d model checkpoint ({first_line(exc)})") from None
    return (model, info) if with_info else model


def _export(args) -> int:
    from .export import export_format, export_npz, export_onnx

    fmt = export_format(args.output)
    model, info = _load_trained(args.model, "cpu", with_info=True)
    size = export_onnx(model, args.output) if fmt == ".onnx" else export_npz(model, info, args.output)
    note = ""
    if fmt == ".npz":
        from .evaluation import predict_numpy
        from .portable import load

        points = np.random.default_rng(0).uniform(-1.0, 1.0, (4096, 3)).astype(np.float32)
        diff = np.abs(load(args.output)(points) - predict_numpy(model, points)).max()
        note = f"; max |numpy - torch| on 4096 random points: {diff:.1e}"
    print(f"{args.output}: {info['arch']} model as {fmt[1:]}, {size} bytes{note}")
    return 0


def _transform_for(args):
    """The saved normalization transform for --frame original, else None."""
    if args.frame != "original":
        return None
    if not args.transform:
        raise UsageError("--frame original needs --transform (the object's results/normalized/<object>.json)")
    from .io import read_json
    from .mesh import Transform

    try:
        return Transform.from_dict(read_json(args.transform))
    except Exception as exc:
        raise Implicit3DError(f"{args.transform}: not a transform JSON with center and scale ({first_line(exc)})") from None


def _points(args) -> int:
    from .io import atomic_path, write_points

    frame, meta = _read_samples(args.samples)
    out = Path(args.output)
    suffix = out.suffix.lower()
    if suffix == ".parquet":
        write_points(out, frame, meta, codes=False)
    elif suffix in (".npz", ".csv"):
        with atomic_path(out) as tmp, open(tmp, "wb") as handle:
            if suffix == ".csv":
                frame.to_csv(handle, index=False)
            else:
                labels = {c: frame[c].astype(str).to_numpy(dtype=str) for c in ("split", "kind")}  # no pickles
                extra = {"std": frame["std"].to_numpy(np.float32)} if "std" in frame else {}
                np.savez(handle, points=frame[["x", "y", "z"]].to_numpy(np.float32), sdf=frame["sdf"].to_numpy(np.float32), **labels, **extra)
    else:
        raise UsageError(f"{out}: unknown output format '{out.suffix}' (use .npz, .csv or .parquet)")
    print(f"{out}: {len(frame)} points with their SDF")
    return 0


def _read_samples(path: str):
    from .io import read_points

    try:
        frame, meta = read_points(path)
    except Exception as exc:
        raise Implicit3DError(f"{path}: cannot read samples ({first_line(exc)})") from None
    missing = {"x", "y", "z", "sdf", "split", "kind"} - set(frame.columns)
    if missing:
        raise Implicit3DError(f"{path}: not a samples file (missing columns {', '.join(sorted(missing))})")
    return frame, meta


def _load_points_any(path: str, split: str | None) -> np.ndarray:
    if str(path).endswith(".parquet"):
        frame, _ = _read_samples(path)
        if split:
            frame = frame[frame["split"] == split]
            if frame.empty:  # the pipeline's samples hold the test split; train jobs draw the rest in memory
                raise Implicit3DError(f"{path}: no {split} points (a samples file holds the test split only)")
        # float32 as stored: the evaluate stage predicts on exactly these values. A copy,
        # because pandas hands out read-only views, which torch warns about.
        return frame[["x", "y", "z"]].to_numpy(np.float32, copy=True)
    if split:
        raise UsageError(f"{path}: --split applies to a samples .parquet only")
    return _load_points(path)


def _load_normalized_mesh(path: str):
    from .mesh import clean_mesh, load_mesh, normalize_mesh

    mesh, _ = normalize_mesh(clean_mesh(load_mesh(path), path))
    return mesh


def _config(args) -> int:
    from .config import SCHEMA, load_schema, project_root, resolve_config
    from .config.reference import describe, markdown

    root = project_root()
    schema = load_schema(root / SCHEMA)
    if args.markdown:
        sys.stdout.write(markdown(schema))
        return 0
    config, sources = resolve_config(root, args.configfile, args.set)
    print(describe(config, schema, sources))
    return 0


_COMMANDS = {"normalize": _normalize, "sdf": _sdf, "predict": _predict, "mesh": _mesh, "evaluate": _evaluate, "export": _export,
             "config": _config, "collection": collection_command, "fit": fit_command, "points": _points}

if __name__ == "__main__":
    sys.exit(main())
