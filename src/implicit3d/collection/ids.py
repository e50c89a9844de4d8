"""Object ids: readable, unique, and safe in every output path, Snakemake wildcard, Parquet file name,
DVC stage and Slurm job name.

An id is one or more components joined by '/', each of ASCII letters, digits and `._+-`, not starting
with '.'; results keep its folders (`results/models/<model>/<tag>/02691156/1a04e3.pt`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

SAFE_CHARACTERS = "A-Za-z0-9._+-"
# The Snakemake wildcard constraint of {object}: the same rule, as a regular expression.
ID_PATTERN = rf"[{SAFE_CHARACTERS}]+(?:/[{SAFE_CHARACTERS}]+)*"
_UNSAFE = re.compile(rf"[^{SAFE_CHARACTERS}]")
_VALID = re.compile(ID_PATTERN)


def safe_component(text: str) -> str:
    """`text` as one id component: other characters become '_', and so does a leading '.'."""
    safe = _UNSAFE.sub("_", text)
    if safe.startswith("."):
        safe = "_" + safe[1:]
    return safe or "_"


def id_problem(object_id: str) -> str | None:
    """Why `object_id` is not a valid id (as given in a manifest), or None when it is."""
    if not object_id:
        return "the object id is empty"
    if not _VALID.fullmatch(object_id):
        return f"object id '{object_id}' may hold only {SAFE_CHARACTERS} and '/' between non-empty parts"
    if any(part.startswith(".") for part in object_id.split("/")):
        return f"object id '{object_id}' has a part that starts with '.'"
    return None


def join(parts: Iterable[str]) -> str:
    return "/".join(safe_component(p) for p in parts)


def strip_shared(paths: Sequence[Sequence[str]]) -> list[tuple[str, ...]]:
    """Each path's components without the leading and trailing ones that every path shares at the same
    position (`a/models/model`, `b/models/model` -> `a`, `b`); at least one component stays."""
    if len(paths) < 2:
        return [tuple(p[-1:]) for p in paths]
    shortest = min(len(p) for p in paths)
    lead = 0
    while lead < shortest - 1 and len({p[lead] for p in paths}) == 1:
        lead += 1
    trail = 0
    while lead + trail < shortest - 1 and len({p[len(p) - 1 - trail] for p in paths}) == 1:
        trail += 1
    return [tuple(p[lead : len(p) - trail]) for p in paths]
