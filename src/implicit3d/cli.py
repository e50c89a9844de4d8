"""Command-line interface: `implicit3d <command> --help`."""

from __future__ import annotations

import argparse
import sys

import numpy as np

from .errors import Implicit3DError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="implicit3d", description="Neural SDFs for mesh collections.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("normalize", help="clean a mesh and scale it into the unit sphere")
    p.add_argument("mesh")
    p.add_argument("-o", "--output", required=True, help="normalized mesh (.ply)")
    p.add_argument("--transform", help="transform JSON (default: OUTPUT with .json)")
    p.add_argument("--max-faces", type=int, default=None)

    p = sub.add_parser("sdf", help="ground-truth SDF of a mesh at points (N,3 .npy)")
    p.add_argument("mesh")
    p.add_argument("points", help=".npy file with an (N, 3) float array")
    p.add_argument("-o", "--output", required=True, help=".npy file for the (N,) SDF, negative inside")
    p.add_argument("--method", default=None, help="ground-truth backend (default: winding)")
    p.add_argument("--frame", choices=["normalized", "original"], default="normalized",
                   help="frame of POINTS and of the output distances (default: normalized)")

    args = parser.parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except Implicit3DError as exc:
        print(f"implicit3d {args.command}: error: {exc}", file=sys.stderr)
        return 1


def _normalize(args) -> int:
    from .stages import normalize

    transform = args.transform or str(args.output).rsplit(".", 1)[0] + ".json"
    info = normalize(args.mesh, args.output, transform, max_faces=args.max_faces)
    print(f"{args.output}: {info['faces']} faces, scale {info['scale']:.6g}")
    return 0


def _sdf(args) -> int:
    from .groundtruth import DEFAULT_METHOD, compute_sdf
    from .mesh import clean_mesh, load_mesh, normalize_mesh

    points = _load_points(args.points)
    mesh, transform = normalize_mesh(clean_mesh(load_mesh(args.mesh), args.mesh))
    if args.frame == "original":
        points = transform.to_normalized(points)
    sdf = compute_sdf(mesh, points, args.method or DEFAULT_METHOD)
    if args.frame == "original":
        sdf = sdf * transform.scale
    np.save(args.output, sdf)
    print(f"{args.output}: {len(sdf)} values, {(sdf < 0).mean():.2%} inside")
    return 0


def _load_points(path: str) -> np.ndarray:
    try:
        points = np.load(path)
    except Exception as exc:
        raise Implicit3DError(f"{path}: cannot read points ({exc})") from None
    if points.ndim != 2 or points.shape[1] != 3:
        raise Implicit3DError(f"{path}: expected an (N, 3) array, got shape {points.shape}")
    return points.astype(np.float64)


_COMMANDS = {"normalize": _normalize, "sdf": _sdf}

if __name__ == "__main__":
    sys.exit(main())
