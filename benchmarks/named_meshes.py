"""The mesh files of named objects, found as the workflow finds them (`discover_meshes` with the
config's `ignore` patterns, so a side file such as `1.mtl` is never taken for object 1)."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from implicit3d.workflow import discover_meshes  # noqa: E402


def named_meshes(folder: Path, names: list[str], config: Path = REPO / "config" / "config.yaml") -> dict[str, Path]:
    """Mesh file per name, in the order given; exits with a one-line error for a name with no mesh."""
    found = discover_meshes(str(folder), yaml.safe_load(config.read_text())["ignore"])
    missing = [name for name in names if name not in found]
    if missing:
        sys.exit(f"{folder}: no mesh named {', '.join(missing)}")
    return {name: Path(found[name]) for name in names}
