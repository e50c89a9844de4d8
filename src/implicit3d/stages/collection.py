"""The collection stage: results/collection.csv, the objects a run takes with their files and labels."""

from __future__ import annotations

from ..collection.table import write_collection
from ..workflow import load_collection


def collection(config: dict, out: str, digest: str | None = None) -> None:
    """The collection `config` names, written as planned: a different `digest` means it changed since."""
    write_collection(load_collection(config), out, expected_digest=digest)
