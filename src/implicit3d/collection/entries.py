"""What a run takes: the objects of a collection, in order, with their mesh file and labels."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field

from ..errors import ConfigError
from .walk import Skipped

COLUMNS = ("object", "category", "category_name", "split", "path")


@dataclass(frozen=True)
class Entry:
    object: str
    path: str
    category: str = ""
    category_name: str = ""  # readable name where the dataset ships one (ShapeNet's taxonomy)
    split: str = ""  # the dataset's own split (ModelNet: train, test)

    def row(self) -> dict[str, str]:
        return {c: getattr(self, c) for c in COLUMNS}


@dataclass
class Collection:
    source: str  # the folder or manifest it came from
    layout: str
    entries: list[Entry]
    skipped: list[Skipped] = field(default_factory=list)

    def __post_init__(self) -> None:
        seen: dict[str, str] = {}
        for e in self.entries:
            if e.object in seen:
                raise ConfigError(f"meshes: '{seen[e.object]}' and '{e.path}' would both be object '{e.object}'")
            seen[e.object] = e.path

    def paths(self) -> dict[str, str]:
        """Object id -> mesh file, in the collection's order."""
        return {e.object: e.path for e in self.entries}

    def categories(self) -> Counter:
        return Counter(e.category for e in self.entries)

    def rows(self) -> list[dict[str, str]]:
        return [e.row() for e in self.entries]

    def digest(self) -> str:
        """Content hash of the objects and their labels (changes when an object or label does)."""
        h = hashlib.sha256()
        for e in self.entries:
            h.update("\0".join(e.row().values()).encode() + b"\n")
        return h.hexdigest()[:16]
