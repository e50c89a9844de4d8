"""results/collection.csv: what a run took, one row per object, and a text summary of a collection."""

from __future__ import annotations

import csv
import os
from collections import Counter

from ..errors import ConfigError
from ..io import atomic_path
from .entries import COLUMNS, Collection
from .select import Selection


def write_collection(collection: Collection, out: str | os.PathLike, expected_digest: str | None = None) -> None:
    """One row per object (object, category, category_name, split, path), in the run's order."""
    if expected_digest is not None and collection.digest() != expected_digest:
        raise ConfigError(f"meshes: '{collection.source}' changed while the workflow ran; run it again")
    with atomic_path(out) as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(collection.rows())


def describe(collection: Collection, selection: Selection | None = None, examples: int = 5, skipped: int = 20) -> str:
    """What a run would take: the layout, objects per category, a few ids, the skipped files and why."""
    lines = [f"{collection.source}: layout {collection.layout}, {len(collection.entries):,} objects"]
    if selection is not None and selection.active:
        lines[0] += f" (select: {selection.describe()})"
    names = {e.category: e.category_name for e in collection.entries}
    counts = collection.categories()
    if set(counts) != {""}:
        lines.append(f"categories ({len(counts)}):")
        for category, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            label = f"{category} ({names[category]})" if names.get(category) else category or "(none)"
            lines.append(f"  {label:<40} {count:>8,}")
    splits = Counter(e.split for e in collection.entries)
    if set(splits) != {""}:
        lines.append("splits: " + ", ".join(f"{s or '(none)'} {n:,}" for s, n in sorted(splits.items())))
    lines.append("ids, e.g.:")
    lines += [f"  {e.object:<40} <- {e.path}" for e in collection.entries[:examples]]
    if collection.skipped:
        reasons = Counter(s.reason for s in collection.skipped)
        lines.append(f"skipped {_files(len(collection.skipped))}: " + "; ".join(f"{n:,} {r}" for r, n in reasons.most_common()))
        lines += [f"  {s.path}: {s.reason}" for s in collection.skipped[:skipped]]
        if len(collection.skipped) > skipped:
            lines.append(f"  ... and {len(collection.skipped) - skipped:,} more (--all lists them)")
    return "\n".join(lines)


def collection_line(collection: Collection) -> str:
    """One line for the start of a run: how many objects, from where, and what was skipped."""
    counts = collection.categories()
    line = f"implicit3d: {len(collection.entries):,} objects from {collection.source} (layout {collection.layout}"
    line += f", {len(counts)} categories)" if set(counts) != {""} else ")"
    if collection.skipped:
        line += f"; {_files(len(collection.skipped))} skipped (`implicit3d collection {collection.source}` lists them)"
    return line


def _files(n: int) -> str:
    return f"{n:,} file" + ("" if n == 1 else "s")
