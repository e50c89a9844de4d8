"""The workflow's configuration, one job per module: `schema` (config/schema.yaml and its defaults),
`validate` (one-line errors, renamed architectures, architecture parameters), `layers` (defaults <
config.yaml < config files < --set values) and `reference` (config/README.md and `implicit3d config`).

The Snakefile calls `prepare` once on the config Snakemake read.
"""

from __future__ import annotations

from pathlib import Path

from .layers import load_config_file, merge, parse_set, resolve_config
from .schema import CONFIG, MISSING, SCHEMA, fill_defaults, load_schema, project_root
from .validate import (
    RENAMED_ARCHITECTURES,
    arch_params,
    check_model_params,
    model_spec,
    rename_architectures,
    validate_config,
)

__all__ = [
    "CONFIG", "MISSING", "RENAMED_ARCHITECTURES", "SCHEMA", "arch_params", "check_model_params", "fill_defaults", "load_config_file",
    "load_schema", "merge", "model_spec", "parse_set", "prepare", "project_root", "rename_architectures", "resolve_config",
    "validate_config",
]  # fmt: skip


def prepare(config: dict, schema_path: str | Path) -> dict:
    """Validate `config` (one-line errors naming the key) and fill in the schema's defaults, in place.
    Entries of `architectures` and `overrides` stay as written: they are hashed into output tags."""
    validate_config(config, schema_path)
    return fill_defaults(config, load_schema(schema_path))
