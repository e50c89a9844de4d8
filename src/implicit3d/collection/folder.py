"""A collection from a folder, laid out as a dataset ships (or as any tree of mesh files)."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from ..errors import ConfigError
from ..formats import MESH_EXTENSIONS
from . import ids, layouts
from .entries import Collection, Entry
from .walk import Skipped, scan


def from_folder(folder: str | os.PathLike, layout: str = "auto", ignore: list[str] = ()) -> Collection:
    """Every mesh file under `folder` that `layout` takes, as an object; the rest skipped, with why."""
    root = Path(folder)
    found = scan(root, ignore)
    if not found.meshes:
        raise ConfigError(f"meshes: no mesh files in '{folder}' (searched recursively for {', '.join(MESH_EXTENSIONS)})")
    prefix = ""
    if layout == "auto":
        layout, prefix = layouts.detect(found.meshes, root)
    elif layout in layouts.KNOWN:
        prefix, count = layouts.best_prefix(layouts.KNOWN[layout], found.meshes, root)
        if not count:
            raise ConfigError(f"meshes: no file in '{folder}' is laid out as {layout} ({layouts.KNOWN[layout].shape})")
    if layout in layouts.KNOWN:
        entries, skipped = _known(layouts.KNOWN[layout], found.meshes, root, prefix)
    else:
        entries, skipped = _generic(layout, found.meshes, root)
    return Collection(str(folder), layout, entries, sorted(found.skipped + skipped, key=lambda s: s.path))


def _known(layout: layouts.Layout, meshes: list[str], root: Path, prefix: str) -> tuple[list[Entry], list[Skipped]]:
    base = layouts.dataset_root(root, prefix)
    names = layouts.category_names(layout.name, base)
    lvis = layouts.objaverse_categories(base) if layout.name == "objaverse" else {}
    entries, skipped = [], []
    for rel in meshes:
        groups = layout.match(prefix + rel)
        if groups is None:
            skipped.append(Skipped(rel, f"not a {layout.name} object ({layout.shape})"))
            continue
        object_id = layout.object_id(groups)
        category = groups.get("category") or lvis.get(groups.get("uid", ""), "")
        entries.append(Entry(object_id, str(root / rel), category, names.get(category, ""), groups.get("split") or ""))
    return entries, skipped


def _generic(layout: str, meshes: list[str], root: Path) -> tuple[list[Entry], list[Skipped]]:
    if layout == "flat":
        deeper = [Skipped(rel, "in a subfolder (layout: flat takes the folder's own files)") for rel in meshes if "/" in rel]
        meshes = [rel for rel in meshes if "/" not in rel]
        if not meshes:
            raise ConfigError(f"meshes: no mesh files directly in '{root}' (layout: flat; set layout: nested for subfolders)")
        return [Entry(ids.safe_component(PurePosixPath(rel).stem), str(root / rel)) for rel in meshes], deeper
    parts = [PurePosixPath(rel).with_suffix("").parts for rel in meshes]
    return [Entry(ids.join(p), str(root / rel)) for p, rel in zip(ids.strip_shared(parts), meshes, strict=True)], []
