"""A run's configuration in layers: schema defaults, config/config.yaml, config files, --set values."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

from ..errors import ConfigError
from .schema import CONFIG, SCHEMA, fill_defaults, load_schema
from .validate import validate_config


def load_config_file(path: str | Path) -> dict:
    """A YAML config file as a dict; a one-line ConfigError naming the file otherwise."""
    try:
        data = yaml.safe_load(Path(path).read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}: invalid YAML{where} ({getattr(exc, 'problem', None) or exc})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of config keys, got a {type(data).__name__}")
    return data


def parse_set(item: str) -> dict:
    """`sampling.seed=3` -> {"sampling": {"seed": 3}}; the value is read as YAML."""
    key, sep, text = item.partition("=")
    if not sep or not key.strip() or "" in key.split("."):
        raise ConfigError(f"--set {item}: expected KEY.PATH=VALUE, e.g. sampling.seed=3")
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"--set {item}: invalid YAML value ({getattr(exc, 'problem', None) or exc})") from None
    for part in reversed(key.strip().split(".")):
        value = {part: value}
    return value


def merge(base: dict, update: dict) -> dict:
    """Snakemake's update_config: nested mappings merge, anything else replaces."""
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def resolve_config(root: Path, configfiles=(), sets=()) -> tuple[dict, list[str]]:
    """Schema defaults < config/config.yaml < each configfile < each --set, validated after each
    layer so that an error names the layer that introduced it."""
    schema_path = root / SCHEMA
    config = fill_defaults({}, load_schema(schema_path))
    layers = [(str(CONFIG), lambda: load_config_file(root / CONFIG))]
    layers += [(str(f), lambda f=f: load_config_file(f)) for f in configfiles]
    layers += [(f"--set {s}", lambda s=s: parse_set(s)) for s in sets]
    for name, load in layers:
        merge(config, load())
        try:
            validate_config(config, schema_path)
        except ConfigError as exc:
            raise ConfigError(f"{name}: {exc}") from None
    return fill_defaults(config, load_schema(schema_path)), ["schema defaults", *(name for name, _ in layers)]
