"""Where the benchmarks' meshes are: the reference collection, the built-in sample, and named objects in a folder."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from implicit3d.errors import ConfigError
from implicit3d.workflow import discover_meshes

REPO = Path(__file__).resolve().parents[2]
# The 50 reference objects, beside the checkout (never committed: see ../shared/data/README.md).
REFERENCE_MESHES = REPO.parent / "shared" / "data" / "test_task_meshes"
# The built-in sample: small CC0 meshes in the repository, which --smoke runs on.
SAMPLE_MESHES = REPO / "data" / "sample_meshes"
SMOKE_OBJECTS = ("joint", "helmet")
# Twelve reference objects for the longer benchmarks: the six with the lowest near-surface F1 under
# the 12-level hash grid (16, 0, 20, 36, 4, 8) and six more spread over the collection.
SUBSET = "0,4,8,10,16,18,20,26,30,36,40,45"



def natural(name: str) -> tuple:
    """Sort key: numbered objects by number ('2' before '10'), then the others by name."""
    return (0, int(name), "") if name.isdigit() else (1, 0, name)


def find_meshes(folder: Path, names: list[str] | None = None) -> dict[str, Path]:
    """Mesh file per object name, found as the workflow finds them (`discover_meshes` with the
    config's `ignore` patterns, so a side file such as `1.mtl` is never taken for object 1): the
    named ones in the order given, or every one in natural order. Exits with a one-line error."""
    ignore = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["ignore"]
    try:
        found = discover_meshes(str(folder), ignore)
    except ConfigError as exc:  # a missing or empty folder
        sys.exit(f"error: {exc} (pass --meshes)")
    if not names:
        return {name: Path(found[name]) for name in sorted(found, key=natural)}
    missing = [name for name in names if name not in found]
    if missing:
        sys.exit(f"error: {folder}: no mesh named {', '.join(missing)}")
    return {name: Path(found[name]) for name in names}
