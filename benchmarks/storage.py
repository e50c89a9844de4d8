"""Bytes a finished run keeps per object, by kind, with its meshes as plain PLY against xz-compressed PLY (the format runs keep) and its test points as float32 columns against lattice codes, the seconds to write and read each, the xz presets compared, and the figures' palette.

Every normalized mesh and reconstruction of the run (`--run`, a workflow run's results folder, with
its meshes in either format) is read, then written and read back here in both formats by
implicit3d.meshfile, checked to give the same vertices and faces, and timed (one process, one
thread). Every samples file is read, then written and read back as float32 columns and, where its
points lie on the samples lattice (runs made since it), as lattice codes, the format runs keep
(`implicit3d.lattice`). The models and figures are counted as the run keeps them. The presets table
compresses the same PLY bytes at each of `--presets`. The figures table re-encodes the run's PNGs
(already 256-colour palettes, as the figures stage saves them) with fewer colours: what a further
saving would cost, at the eye's judgement.

    python benchmarks/storage.py                                   # this checkout's run (results/)
    python benchmarks/storage.py --run runs/default_run/hashgrid --presets 0,1,6   # e.g. default_run --keep's
"""

from __future__ import annotations

import copy
import io
import lzma
import re
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from harness import Bench, parser

from implicit3d import lattice
from implicit3d.formats import MESH_SUFFIX
from implicit3d.io import read_points, write_points
from implicit3d.meshfile import XZ_PRESET, mesh_bytes, read_mesh, write_mesh

DEFAULT_RUN = Path("results")  # this checkout's own run
MB = 1e6
# Kinds of file a run keeps per object, by where they lie under results/.
KINDS = {"samples": "samples/*/*.parquet", "models": "models/*/*/*.pt", "figures": "figures/*/*/*.png"}
MESH_KINDS = {"normalized": "normalized/*", "reconstructions": "meshes/*/*/*"}
PALETTES = (256, 128, 64)


def main(argv: list[str] | None = None) -> None:
    p = parser(__doc__, meshes=False)
    p.add_argument("--run", type=Path, default=DEFAULT_RUN, help=f"a finished workflow run's results folder (default: {DEFAULT_RUN})")
    p.add_argument("--presets", default="0,1,3,6", help="xz presets to compare, 0-9 (default: 0,1,3,6)")
    p.add_argument("--repeats", type=int, default=3, help="timings of each preset, the least reported (default: 3)")
    p.add_argument("--figures", type=int, default=30, help="figures re-encoded with fewer colours, the first by name (default: 30)")
    args = p.parse_args(argv)
    presets = [int(x) for x in args.presets.split(",")]
    with Bench(__file__, __doc__, args, argv) as b:
        run = smoke_run(b) if args.smoke else args.run
        if not (run / "normalized").is_dir():
            sys.exit(f"error: {run / 'normalized'}: not found (--run takes a workflow run's results folder)")
        objects = sorted({mesh_name(p) for p in (run / "normalized").iterdir() if mesh_name(p)})
        meshes = {kind: kept_meshes(run.glob(pattern)) for kind, pattern in MESH_KINDS.items()}
        timed = pd.DataFrame([row for kind, files in meshes.items() for path in files for row in both_formats(kind, path, b.work)])
        kept = {kind: sum(p.stat().st_size for p in run.glob(pattern)) for kind, pattern in KINDS.items()}
        figures = sorted(run.glob(KINDS["figures"]))[: args.figures]
        sections = [
            ("Setup", f"Run `{run}`: {len(objects)} objects, {len(meshes['normalized'])} normalized meshes, {len(meshes['reconstructions'])} "
                      f"reconstructions; every one reads back with the same vertices and faces from both formats: "
                      f"{'yes' if timed['identical'].all() else 'NO'}. Compact: xz preset {XZ_PRESET}."),  # fmt: skip
            ("Bytes kept per object", per_object(timed, kept, len(objects))),
            ("Seconds per mesh file", seconds(timed)),
            ("Test points: float32 columns against lattice codes", sample_formats(sorted(run.glob(KINDS["samples"])), b.work)),
            ("xz presets on the same PLY bytes", preset_table(meshes, presets, len(objects), args.repeats)),
            (f"Figures re-encoded with fewer palette colours ({len(figures)} of the run's PNGs)", palette_table(figures)),
        ]
        if figures:  # a colour map shows banding first
            shown = next((f for f in figures if f.name.endswith("_slices.png")), figures[0])
            side_by_side(shown, PALETTES[-1], args.out / "storage_palette.png")
            sections.append(("", f"![{shown.name} as kept (left) and with {PALETTES[-1]} colours (right)](storage_palette.png)"))
        b.page("Bytes a run keeps per object: meshes as plain against xz-compressed PLY, test points as float32 columns against lattice codes", sections)


def mesh_name(path: Path) -> str | None:
    """The object a kept mesh file belongs to (either format), None for other files."""
    found = re.fullmatch(r"(.+?)(\.ply\.xz|\.ply)", path.name)
    return found[1] if found else None


def kept_meshes(paths) -> list[Path]:
    """The mesh files among `paths`; of an object kept in both formats (a run redone since), the .ply.xz."""
    found = {}
    for path in sorted(paths, key=lambda p: p.name.endswith(MESH_SUFFIX)):
        if name := mesh_name(path):
            found[path.parent / name] = path
    return sorted(found.values())


def both_formats(kind: str, path: Path, work: Path) -> list[dict]:
    """The mesh written and read back as plain PLY and as xz PLY: bytes, seconds, and whether it
    comes back with exactly the vertices and faces it was read with."""
    mesh = read_mesh(path)
    rows = []
    for label, suffix in (("plain PLY", ".ply"), (f"xz PLY (preset {XZ_PRESET})", MESH_SUFFIX)):
        back, row = round_trip(partial(write_mesh, mesh=mesh), read_mesh, work / f"mesh{suffix}")
        same = np.array_equal(back.vertices, mesh.vertices) and np.array_equal(back.faces, mesh.faces)
        rows.append({"kind": kind, "format": label, **row, "identical": same})
    return rows


def round_trip(write, read, target: Path):
    """`write(target)`, then `read(target)`: what came back, and the file's bytes and both times."""
    start = time.perf_counter()
    write(target)
    wrote = time.perf_counter() - start
    start = time.perf_counter()
    back = read(target)
    return back, {"bytes": target.stat().st_size, "write_s": wrote, "read_s": time.perf_counter() - start}


def sample_formats(files: list[Path], work: Path) -> pd.DataFrame:
    """Each samples file written and read back in both formats: MB and seconds per file, and
    whether every one comes back bit for bit. Files whose points are off the lattice (runs made
    before it) count in the float32 row only."""
    rows = []
    for path in files:
        frame, meta = read_points(path)
        formats = [("float32 columns", False)] + [("lattice codes", True)] * (lattice.encode(frame) is not None)
        for label, codes in formats:
            (back, _), row = round_trip(partial(write_points, frame=frame, metadata=meta, codes=codes), read_points, work / "samples.parquet")
            rows.append({"format": label, **row, "identical": back.equals(frame)})
    table = pd.DataFrame(rows).groupby("format", sort=False).agg(
        files=("bytes", "size"), MB_per_file=("bytes", lambda b: b.mean() / MB), write_s=("write_s", "mean"),
        read_s=("read_s", "mean"), identical=("identical", "all"),
    )  # fmt: skip
    return table.reset_index().round({"MB_per_file": 3, "write_s": 4, "read_s": 4})


def per_object(timed: pd.DataFrame, kept: dict[str, int], objects: int) -> pd.DataFrame:
    """MB per object of each kind: the meshes in both formats, the other kinds as kept (the same in both)."""
    meshes = timed.pivot_table(index="kind", columns="format", values="bytes", aggfunc="sum", sort=False) / objects / MB
    plain, compact = meshes.columns
    others = pd.DataFrame({plain: kept, compact: kept}).astype(float) / objects / MB
    table = pd.concat([meshes, others])
    table.loc["total"] = table.sum()
    table["saved"] = (1 - table[compact] / table[plain]).map(lambda x: f"{x:.0%}")
    return table.rename_axis("MB per object").reset_index().round({plain: 3, compact: 3})


def seconds(timed: pd.DataFrame) -> pd.DataFrame:
    return (timed.groupby(["kind", "format"], sort=False)
            .agg(files=("bytes", "size"), mean_MB=("bytes", lambda b: b.mean() / MB), write_s=("write_s", "mean"), read_s=("read_s", "mean"))
            .reset_index().round({"mean_MB": 3, "write_s": 4, "read_s": 4}))  # fmt: skip


def preset_table(meshes: dict[str, list[Path]], presets: list[int], objects: int, repeats: int) -> pd.DataFrame:
    """Each preset on every mesh's PLY bytes (in memory): MB per object of each kind, seconds per mesh (the least of `repeats`)."""
    data = {kind: [mesh_bytes(read_mesh(p)) for p in files] for kind, files in meshes.items()}
    count = sum(len(d) for d in data.values())
    rows = [{"preset": "none (plain PLY)", **{f"{k} MB": sum(map(len, d)) / objects / MB for k, d in data.items()}, "compress_s": 0.0, "decompress_s": 0.0}]
    for preset in presets:
        row, compress, decompress = {"preset": str(preset)}, 0.0, 0.0
        for kind, blobs in data.items():
            packed, seconds_in = [], [float("inf")] * 2
            for _ in range(repeats):  # the fastest of a few: the load of a shared machine only adds
                start = time.perf_counter()
                packed = [lzma.compress(d, format=lzma.FORMAT_XZ, preset=preset) for d in blobs]
                middle = time.perf_counter()
                for blob in packed:
                    lzma.decompress(blob)
                seconds_in = [min(seconds_in[0], middle - start), min(seconds_in[1], time.perf_counter() - middle)]
            compress, decompress = compress + seconds_in[0], decompress + seconds_in[1]
            row[f"{kind} MB"] = sum(map(len, packed)) / objects / MB
        rows.append({**row, "compress_s": compress / count, "decompress_s": decompress / count})
    table = pd.DataFrame(rows)
    return table.round({c: 3 for c in table.columns if c.endswith("MB")} | {"compress_s": 4, "decompress_s": 4})


def palette_table(figures: list[Path]) -> pd.DataFrame:
    """The PNGs as kept, and each re-quantized to fewer colours (as the figures stage writes them)."""
    from PIL import Image

    from implicit3d.figures.style import write_palette_png

    kept = sum(p.stat().st_size for p in figures)
    rows = [{"palette": "as kept", "MB per figure": kept / len(figures) / MB, "of kept": "100%", "encode_s": None}]
    for colours in PALETTES:
        total, start = 0, time.perf_counter()
        for path in figures:
            buffer = io.BytesIO()
            write_palette_png(Image.open(path), buffer, colours)
            total += len(buffer.getvalue())
        rows.append({"palette": f"{colours} colours", "MB per figure": total / len(figures) / MB, "of kept": f"{total / kept:.0%}",
                     "encode_s": (time.perf_counter() - start) / len(figures)})  # fmt: skip
    return pd.DataFrame(rows).round({"MB per figure": 4, "encode_s": 3})


def side_by_side(figure: Path, colours: int, out: Path) -> None:
    """The upper left quarter of `figure` as kept and re-quantized to `colours`, side by side, for the eye."""
    from PIL import Image

    from implicit3d.figures.style import write_palette_png

    image = Image.open(figure).convert("RGB")
    quarter = image.crop((0, 0, image.width // 2, image.height // 2))
    buffer = io.BytesIO()
    write_palette_png(quarter, buffer, colours)
    fewer = Image.open(buffer).convert("RGB")
    both = Image.new("RGB", (quarter.width * 2 + 10, quarter.height), "white")
    both.paste(quarter, (0, 0))
    both.paste(fewer, (quarter.width + 10, 0))
    out.parent.mkdir(parents=True, exist_ok=True)
    both.save(out, optimize=True)


def smoke_run(b: Bench) -> Path:
    """--smoke: one small object through the chain with the tiny settings, in the work folder."""
    from harness import REPO

    from implicit3d.chain import fit_object
    from implicit3d.config import prepare
    from implicit3d.products import Products

    ((name, source),) = b.meshes().items()
    run = b.work / "storage_run"
    if not (run / "normalized").is_dir():
        config = prepare(copy.deepcopy(b.config), REPO / "config" / "schema.yaml")
        products = Products(reconstruction=True, figures=("render",), viewer=False)
        fit_object(source, run, name, config, [config["models"][0]], products, report=lambda line: None)
    return run


if __name__ == "__main__":
    main()
