"""Atomic file writes and the Parquet point-set format."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from . import lattice

METADATA_KEY = b"implicit3d"
LATTICE_KEY = b"implicit3d.lattice"  # present where the points are stored as lattice codes
# Float columns (tables off the lattice): random mantissas that a dictionary only bloats (pyarrow's
# default tries one, then falls back); split into byte streams, zstd packs their exponent bytes.
VALUE_COLUMNS = ("x", "y", "z", "sdf")
# Lattice codes: Z-ordered, so delta encoding keeps only their small differences.
CODE_ENCODING = dict.fromkeys(lattice.CODE_COLUMNS, "DELTA_BINARY_PACKED")
ZSTD_LEVEL = 19  # level 3 is 7 % larger on float columns, 0.5 % on lattice codes
_UMASK = os.umask(0o022)  # reading the umask means setting it: put it straight back
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to `path`; move it into place only on success.

    A crash or kill mid-write therefore never leaves a half-written file that
    Snakemake or a later run would take for a finished output.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp" + path.suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        # mkstemp makes the file private (0600); give it the mode a plain open() would have.
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_json(path: str | os.PathLike, obj: Any) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n")


def read_json(path: str | os.PathLike) -> Any:
    return json.loads(Path(path).read_text())


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def write_points(path: str | os.PathLike, frame: pd.DataFrame, metadata: dict, codes: bool = True) -> None:
    """Write a point table (x, y, z, sdf, split, kind) with JSON metadata in the schema: as
    lattice codes where every point and SDF is on the samples lattice (`lattice`) and `codes`
    allows, else as float32 columns. Either way `read_points` gives the same table back, bit
    for bit."""
    encoded = lattice.encode(frame) if codes else None
    meta = {METADATA_KEY: json.dumps(metadata, sort_keys=True, default=_json_default).encode()}
    if encoded is not None:
        meta[LATTICE_KEY] = json.dumps(lattice.PARAMS).encode()
        frame, encoding, split = encoded, CODE_ENCODING, False
    else:
        encoding = None
        split = [c for c in VALUE_COLUMNS if c in frame.columns and pd.api.types.is_float_dtype(frame[c])] or False
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), **meta})
    plain = [c for c in frame.columns if c not in (encoding or split or ())]
    with atomic_path(path) as tmp:
        pq.write_table(
            table, tmp, compression="zstd", compression_level=ZSTD_LEVEL, use_dictionary=plain,
            use_byte_stream_split=split, column_encoding=encoding,
        )  # fmt: skip


def read_points(path: str | os.PathLike) -> tuple[pd.DataFrame, dict]:
    """Read a point table and its metadata written by `write_points`."""
    table = pq.read_table(path)
    frame = table.to_pandas()
    params = (table.schema.metadata or {}).get(LATTICE_KEY)
    if params is not None:
        frame = lattice.decode(frame, json.loads(params))
    return frame, _metadata(table.schema)


def read_points_metadata(path: str | os.PathLike) -> dict:
    """Only the metadata of a point table (from the file footer; the points are not read)."""
    return _metadata(pq.read_schema(path))


def _metadata(schema: pa.Schema) -> dict:
    return json.loads((schema.metadata or {}).get(METADATA_KEY, b"{}"))
