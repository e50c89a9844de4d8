"""Subsets of a collection: by category, by id patterns, and a seeded number of objects.

`limit` keeps the objects that rank first under a hash of (seed, id). An object's rank depends on its
id alone, so the same objects come back on every run, and a larger `limit` keeps every object a
smaller one chose and only adds objects.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass

from ..errors import ConfigError
from .entries import Collection, Entry


@dataclass(frozen=True)
class Selection:
    categories: tuple[str, ...] = ()  # category ids or names (any case); empty: every category
    include: tuple[str, ...] = ()  # fnmatch patterns on ids; empty: every id
    exclude: tuple[str, ...] = ()
    limit: int = 0  # objects at most; 0: no limit
    limit_per_category: int = 0  # objects at most in each category; 0: no limit
    seed: int = 0

    @classmethod
    def from_config(cls, section: dict | None) -> Selection:
        s = section or {}
        return cls(
            tuple(str(c) for c in s.get("categories") or ()),
            tuple(s.get("include") or ()),
            tuple(s.get("exclude") or ()),
            int(s.get("limit") or 0),
            int(s.get("limit_per_category") or 0),
            int(s.get("seed") or 0),
        )

    @property
    def active(self) -> bool:
        return bool(self.categories or self.include or self.exclude or self.limit or self.limit_per_category)

    def describe(self) -> str:
        parts = [f"{k}={v!r}" for k, v in vars(self).items() if v and k != "seed"]
        return ", ".join(parts) + (f", seed={self.seed}" if self.limit or self.limit_per_category else "")


def rank(seed: int, object_id: str) -> bytes:
    return hashlib.sha256(f"{seed}\0{object_id}".encode()).digest()


def _patterns(patterns: tuple[str, ...]) -> re.Pattern | None:
    return re.compile("|".join(fnmatch.translate(p) for p in patterns)) if patterns else None


def _first(entries: list[Entry], limit: int, seed: int) -> set[str]:
    return {e.object for e in sorted(entries, key=lambda e: rank(seed, e.object))[:limit]}


def select(collection: Collection, selection: Selection) -> Collection:
    """The objects `selection` takes, in the collection's order; none fails with one line."""
    if not selection.active:
        return collection
    entries = collection.entries
    if selection.categories:
        wanted = {c.lower() for c in selection.categories}
        entries = [e for e in entries if e.category.lower() in wanted or (e.category_name and e.category_name.lower() in wanted)]
    include, exclude = _patterns(selection.include), _patterns(selection.exclude)
    if include is not None:
        entries = [e for e in entries if include.match(e.object)]
    if exclude is not None:
        entries = [e for e in entries if not exclude.match(e.object)]
    if selection.limit_per_category:
        by_category: dict[str, list[Entry]] = defaultdict(list)
        for e in entries:
            by_category[e.category].append(e)
        keep = set().union(*(_first(part, selection.limit_per_category, selection.seed) for part in by_category.values()))
        entries = [e for e in entries if e.object in keep]
    if selection.limit and len(entries) > selection.limit:
        keep = _first(entries, selection.limit, selection.seed)
        entries = [e for e in entries if e.object in keep]
    if not entries:
        have = sorted({e.category_name or e.category for e in collection.entries} - {""})
        hint = f" (its categories: {', '.join(have[:12])}{', ...' if len(have) > 12 else ''})" if have else ""
        raise ConfigError(f"select: {selection.describe()} matches none of the {len(collection.entries)} objects in '{collection.source}'{hint}")
    return Collection(collection.source, collection.layout, entries, collection.skipped)


def spread(collection: Collection, limit: int) -> list[str]:
    """At most `limit` object ids, taken in turn from each category (each in the collection's order),
    returned in the collection's order: a large collection's page shows every category."""
    if len(collection.entries) <= limit:
        return [e.object for e in collection.entries]
    by_category: dict[str, list[str]] = defaultdict(list)
    for e in collection.entries:
        by_category[e.category].append(e.object)
    queues = [iter(ids) for _, ids in sorted(by_category.items())]
    chosen: set[str] = set()
    while len(chosen) < limit and queues:
        for queue in list(queues):
            object_id = next(queue, None)
            if object_id is None:
                queues.remove(queue)
            elif len(chosen) < limit:
                chosen.add(object_id)
    return [e.object for e in collection.entries if e.object in chosen]
