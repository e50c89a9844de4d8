"""A collection from a manifest: a CSV, TSV or Parquet table with one row per object.

Columns: `path` (required; relative paths are read from the manifest's folder), and optionally
`object` (the id; else made from the paths as for a nested folder), `category`, `category_name` and
`split`: results/collection.csv and `implicit3d collection --manifest` write this format.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path, PurePosixPath

from ..errors import ConfigError, first_line
from ..formats import MESH_EXTENSIONS
from . import ids
from .entries import Collection, Entry

SUFFIXES = (".csv", ".tsv", ".parquet")
COLUMNS = ("path", "object", "category", "category_name", "split")


def is_manifest(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in SUFFIXES


def read_rows(path: Path) -> tuple[list[str], list[tuple[str, dict[str, str]]]]:
    """(columns, [(where, row)]): `where` names the row for messages (`line 3`, `row 3`)."""
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path)
        except Exception as exc:
            raise ConfigError(f"meshes: cannot read manifest '{path}' ({first_line(exc)})") from None
        columns = table.column_names
        data = {c: ["" if v is None else str(v) for v in table.column(c).to_pylist()] for c in columns}
        return columns, [(f"row {i + 1}", {c: data[c][i] for c in columns}) for i in range(table.num_rows)]
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle, delimiter="\t" if path.suffix.lower() == ".tsv" else ",")
            columns = [c.strip() for c in reader.fieldnames or []]
            rows = [(f"line {reader.line_num}", {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}) for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ConfigError(f"meshes: cannot read manifest '{path}' ({exc})") from None
    return columns, rows


def from_manifest(manifest: str | os.PathLike) -> Collection:
    path = Path(manifest)
    if not path.is_file():
        raise ConfigError(f"meshes: manifest '{manifest}' does not exist")
    columns, rows = read_rows(path)
    unknown = [c for c in columns if c not in COLUMNS]
    if unknown:
        raise ConfigError(f"{manifest}: unknown column '{unknown[0]}' (a manifest has {', '.join(COLUMNS)}; `path` is required)")
    if "path" not in columns:
        raise ConfigError(f"{manifest}: no `path` column (a manifest has {', '.join(COLUMNS)}; `path` is required)")
    if not rows:
        raise ConfigError(f"{manifest}: no rows")
    base = path.parent
    files = []
    for where, row in rows:
        file = base / row["path"] if row["path"] else None
        if file is None:
            raise ConfigError(f"{manifest} {where}: empty `path`")
        if file.suffix.lower() not in MESH_EXTENSIONS:
            raise ConfigError(f"{manifest} {where}: '{row['path']}' is not a mesh file (expected {', '.join(MESH_EXTENSIONS)})")
        if not file.is_file():
            raise ConfigError(f"{manifest} {where}: '{row['path']}' does not exist (looked for {file})")
        files.append(file)
    if "object" in columns:
        object_ids = []
        for where, row in rows:
            problem = ids.id_problem(row["object"])
            if problem:
                raise ConfigError(f"{manifest} {where}: {problem}")
            object_ids.append(row["object"])
    else:
        parts = [PurePosixPath(Path(os.path.relpath(f, base)).as_posix()).with_suffix("").parts for f in files]
        object_ids = [ids.join(p) for p in ids.strip_shared(parts)]
    where_of: dict[str, str] = {}
    for (where, _), object_id in zip(rows, object_ids, strict=True):
        if object_id in where_of:
            raise ConfigError(f"{manifest}: {where_of[object_id]} and {where} would both be object '{object_id}'")
        where_of[object_id] = where
    entries = [
        Entry(object_id, str(file), row.get("category", ""), row.get("category_name", ""), row.get("split", ""))
        for (_, row), object_id, file in zip(rows, object_ids, files, strict=True)
    ]
    return Collection(str(manifest), "manifest", entries)
