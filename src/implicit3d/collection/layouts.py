"""Dataset layouts: which files of a tree are objects, and their ids, categories and splits.

A known layout is a pattern on a mesh file's path relative to the dataset's root. The folder given
as `meshes` may be that root or a folder inside it (a ShapeNet synset, a ModelNet class, Objaverse's
`glbs`): its own name and its parent's are tried in front of the paths, so an object keeps the id it
has in the whole dataset, and its results land in the same place.
"""

from __future__ import annotations

import gzip
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..formats import MESH_EXTENSIONS
from . import ids

MESH = r"\.(?i:" + "|".join(s[1:] for s in MESH_EXTENSIONS) + ")"


@dataclass(frozen=True)
class Layout:
    name: str
    shape: str  # the paths it takes, for messages and docs
    pattern: re.Pattern
    template: str  # the object id from the pattern's groups

    def match(self, path: str) -> dict | None:
        m = self.pattern.fullmatch(path)
        return m.groupdict() if m else None

    def object_id(self, groups: dict) -> str:
        return ids.join(self.template.format(**groups).split("/"))


KNOWN = {
    layout.name: layout
    for layout in (
        Layout("shapenet_v2", "<synset>/<model id>/models/model_normalized.obj",
               re.compile(r"(?P<category>\d{8})/(?P<model>[^/]+)/models/model_normalized\.(?i:obj)"), "{category}/{model}"),
        Layout("shapenet_v1", "<synset>/<model id>/model.obj",
               re.compile(r"(?P<category>\d{8})/(?P<model>[^/]+)/model\.(?i:obj)"), "{category}/{model}"),
        Layout("modelnet", "<class>/{train,test}/<class>_<number>.off",
               re.compile(r"(?P<category>[^/]+)/(?P<split>train|test)/(?P<name>[^/]+)\.(?i:off)"), "{category}/{split}/{name}"),
        Layout("objaverse", "glbs/<shard>/<uid>.glb",
               re.compile(r"glbs/[^/]+/(?P<uid>[^/]+)\.(?i:glb)"), "{uid}"),
        Layout("thingi10k", "raw_meshes/<file id>.stl (or .obj, .off, .ply)",
               re.compile(rf"raw_meshes/(?P<file>[^/]+){MESH}"), "{file}"),
    )
}  # fmt: skip
GENERIC = {"flat": "every mesh file directly in the folder; id: its name without extension",
           "nested": "mesh files at any depth; id: the path without extension and without the parts every object shares"}  # fmt: skip
NAMES = ["auto", "flat", "nested", *KNOWN]
PREFIX_DEPTH = 2  # names of the folder and of its parent tried in front of the paths


def prefixes(root: Path) -> list[str]:
    """'' and the names of `root` and its parents, as path prefixes: 'chair/', 'ModelNet40/chair/'."""
    names = Path(os.path.abspath(root)).parts[1:][-PREFIX_DEPTH:]
    return [""] + ["/".join(names[len(names) - k :]) + "/" for k in range(1, len(names) + 1)]


def best_prefix(layout: Layout, paths: list[str], root: Path) -> tuple[str, int]:
    """The prefix under which `layout` matches most of `paths`, and how many it matches."""
    best = ("", 0)
    for prefix in prefixes(root):
        count = sum(1 for p in paths if layout.pattern.fullmatch(prefix + p))
        if count > best[1]:
            best = (prefix, count)
    return best


def detect(paths: list[str], root: Path) -> tuple[str, str]:
    """(layout name, prefix) for `layout: auto`: the known layout that matches most mesh files, when it
    matches at least half of them; else flat (every file directly in the folder) or nested."""
    sample = paths if len(paths) <= 2000 else paths[:: len(paths) // 1000]
    scores = {name: best_prefix(layout, sample, root) for name, layout in KNOWN.items()}
    name, (prefix, count) = max(scores.items(), key=lambda item: item[1][1])
    if count and count * 2 >= len(sample):
        return name, prefix
    return ("flat" if all("/" not in p for p in paths) else "nested"), ""


def object_id_of(path: str | os.PathLike) -> str:
    """The id a known layout gives this one file (from the ends of its path: ShapeNet's
    `.../02691156/<model>/models/model_normalized.obj` -> `02691156/<model>`), else its name."""
    parts = Path(os.path.abspath(path)).parts
    for layout in KNOWN.values():
        for depth in range(1, 5):
            groups = layout.match("/".join(parts[-depth:]))
            if groups is not None:
                return layout.object_id(groups)
    return ids.safe_component(Path(path).stem)


def dataset_root(root: Path, prefix: str) -> Path:
    """The dataset's own root: `root`, or the folder above it that the prefix names."""
    root = Path(root)
    for _ in range(prefix.count("/")):
        root = root.parent
    return root


def category_names(layout: str, root: Path) -> dict[str, str]:
    """Readable names of categories where the dataset ships them: ShapeNet's taxonomy.json
    (synset id -> first name); for Objaverse, LVIS annotations map uid -> category (see `categories`)."""
    if layout.startswith("shapenet"):
        taxonomy = root / "taxonomy.json"
        if taxonomy.is_file():
            try:
                entries = json.loads(taxonomy.read_text())
                return {str(e["synsetId"]): str(e["name"]).split(",")[0].strip() for e in entries}
            except (ValueError, KeyError, TypeError):
                return {}
    return {}


def objaverse_categories(root: Path) -> dict[str, str]:
    """uid -> LVIS category, from the `lvis-annotations.json(.gz)` Objaverse's loader saves, if present."""
    for name in ("lvis-annotations.json.gz", "lvis-annotations.json"):
        path = root / name
        if path.is_file():
            try:
                data = json.loads(gzip.decompress(path.read_bytes()) if name.endswith(".gz") else path.read_text())
                return {str(uid): str(category) for category, uids in data.items() for uid in uids}
            except (OSError, ValueError, AttributeError, TypeError):
                return {}
    return {}
