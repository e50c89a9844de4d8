"""The configuration's schema (config/schema.yaml): where it lies, and the defaults it fills in."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

SCHEMA = Path("config") / "schema.yaml"
CONFIG = Path("config") / "config.yaml"
MISSING = object()


def project_root() -> Path:
    """The working directory where it holds config/schema.yaml (as Snakemake runs), else this checkout."""
    return Path.cwd() if (Path.cwd() / SCHEMA).is_file() else Path(__file__).resolve().parents[3]


def load_schema(path: str | Path) -> dict:
    return yaml.safe_load(Path(path).read_text())


def resolve_ref(sub: dict, root: dict) -> dict:
    """`sub` with its local $ref ("#/definitions/x") merged in; keys beside the $ref win."""
    if "$ref" not in sub:
        return sub
    target = root
    for part in sub["$ref"].removeprefix("#/").split("/"):
        target = target[part]
    return {**resolve_ref(target, root), **{k: v for k, v in sub.items() if k != "$ref"}}


def fill_defaults(config: dict, schema: dict, root: dict | None = None, filled: list | None = None, path: str = "") -> dict:
    """Set absent keys to their schema `default` (an object's default dict also supplies its missing
    keys), recursively; `filled` collects the dotted paths set. Entries of free-form maps
    (`architectures`, `overrides`) are left as written: the code applies their defaults, and
    their content is hashed into the output tags."""
    root = schema if root is None else root
    node = resolve_ref(schema, root)
    for key, sub in node.get("properties", {}).items():
        sub = resolve_ref(sub, root)
        default = sub.get("default", MISSING)
        if key not in config and default is not MISSING:
            config[key] = copy.deepcopy(default)
            if filled is not None:
                filled.append(f"{path}{key}")
        value = config.get(key)
        if isinstance(value, dict):
            if isinstance(default, dict) and "properties" in sub:
                for k, v in default.items():
                    value.setdefault(k, copy.deepcopy(v))
            fill_defaults(value, sub, root, filled, f"{path}{key}.")
    return config
