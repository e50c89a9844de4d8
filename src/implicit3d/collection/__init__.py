"""Collections of meshes as datasets ship them: folders in a known layout (ShapeNet, ModelNet,
Objaverse, Thingi10K), plain flat or nested folders, and manifests; object ids, categories, splits,
and subsets.

    load(source, layout="auto", ignore=(), selection=Selection())  ->  Collection
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ConfigError
from .entries import COLUMNS, Collection, Entry
from .folder import from_folder
from .ids import ID_PATTERN
from .layouts import NAMES as LAYOUTS
from .manifest import SUFFIXES as MANIFEST_SUFFIXES
from .manifest import from_manifest, is_manifest
from .select import Selection, select, spread
from .walk import Skipped

__all__ = ["COLUMNS", "Collection", "Entry", "ID_PATTERN", "LAYOUTS", "Selection", "Skipped", "load", "select", "spread"]


def load(source: str | os.PathLike, layout: str = "auto", ignore: list[str] = (), selection: Selection | None = None) -> Collection:
    """The objects a run takes from `source` (a folder or a manifest file), after `selection`."""
    path = Path(source)
    if layout not in LAYOUTS:
        raise ConfigError(f"layout: '{layout}' is not one of {', '.join(LAYOUTS)}")
    if path.is_dir():
        collection = from_folder(path, layout, list(ignore))
    elif path.is_file() and is_manifest(path):
        collection = from_manifest(path)
    elif path.exists():
        raise ConfigError(f"meshes: '{source}' is neither a folder nor a manifest ({', '.join(MANIFEST_SUFFIXES)})")
    else:
        raise ConfigError(f"meshes: folder '{source}' does not exist")
    return select(collection, selection or Selection())
