"""Validating a configuration: the schema, architecture names (old ones renamed), and each
architecture's parameters, all with one-line errors naming the key."""

from __future__ import annotations

import ast
import copy
import functools
import sys
from pathlib import Path

from ..errors import ConfigError
from ..products import Products


def model_spec(config: dict, model: str, obj: str | None = None) -> dict:
    """The architecture config for `model`, with the per-object override merged in."""
    archs = config["architectures"]
    if model not in archs:
        raise ConfigError(f"models: '{model}' is not defined under architectures (have: {', '.join(archs)})")
    spec = copy.deepcopy(archs[model])
    override = config.get("overrides", {}).get(obj, {}).get(model, {}) if obj else {}
    for section in ("params", "training"):
        spec.setdefault(section, {}).update(override.get(section, {}))
    return spec


# Architectures renamed to say what they are: {old name: new name}. An old name in a user's config
# still works (rename_architectures), with a one-line notice.
RENAMED_ARCHITECTURES = {"hashgrid_previous": "hashgrid_12l_int8"}


def rename_architectures(config: dict) -> None:
    """Old architecture names in `models`, `architectures` and `overrides` take their new names, in
    place; an old entry is merged over the new one, as a config file is merged over config.yaml."""
    models = config.get("models") if isinstance(config.get("models"), list) else []
    maps = [config.get("architectures"), *(config.get("overrides") or {}).values()]
    maps = [m for m in maps if isinstance(m, dict)]
    for old, new in RENAMED_ARCHITECTURES.items():
        used = [m for m in maps if isinstance(m.get(old), dict)]
        if not used and old not in models:
            continue
        print(f"config: architecture '{old}' is now named '{new}'; the old name still works", file=sys.stderr)
        if old in models:
            config["models"] = models = [new if m == old else m for m in models]
        for place in used:
            entry = place.setdefault(new, {})
            for key, value in place.pop(old).items():
                entry[key] = {**entry[key], **value} if isinstance(value, dict) and isinstance(entry.get(key), dict) else value


def validate_config(config: dict, schema_path: str | Path) -> None:
    """Raise a one-line ConfigError naming the offending key (jsonschema's own error dumps the whole
    schema). Renamed architectures take their new names, in place."""
    import jsonschema

    from .schema import load_schema

    rename_architectures(config)
    validator = jsonschema.Draft202012Validator(load_schema(schema_path))
    read_typed_strings(config, validator)
    error = jsonschema.exceptions.best_match(validator.iter_errors(config))
    if error is not None:
        key = ".".join(str(p) for p in error.absolute_path) or "<top level>"
        raise ConfigError(f"config key '{key}': {error.message}")
    for model in config["models"]:
        model_spec(config, model)
    check_model_params(config)
    Products.from_config(config)  # what draws a reconstruction needs one
    from ..devices import device_problem, gpu_left_idle

    if problem := device_problem(config["device"]):
        raise ConfigError(problem)
    if warning := gpu_left_idle(config["device"]):
        print(f"implicit3d: warning: {warning}", file=sys.stderr)


def read_typed_strings(config: dict, validator) -> None:
    """Snakemake reads the values nested in a `--config` entry as strings (`select={limit: 10}` gives
    limit '10'): where the schema asks for a number, a boolean or null and such a string reads as one
    in YAML, take that value, in place. A string the schema accepts stays a string."""
    import yaml

    # Collected first: the config changes below. A string under oneOf has an error per alternative.
    for error in list(_type_errors(validator.iter_errors(config))):
        try:
            value = yaml.safe_load(error.instance)
        except yaml.YAMLError:
            continue
        types = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        if isinstance(value, str) or not any(validator.is_type(value, t) for t in types):
            continue
        *parents, key = error.absolute_path
        place = functools.reduce(lambda node, k: node[k], parents, config)
        if place[key] is error.instance:  # not typed already by another alternative's error
            place[key] = value


def _type_errors(errors):
    """The schema's type errors on strings, also those under oneOf/anyOf alternatives."""
    for error in errors:
        if error.validator == "type" and isinstance(error.instance, str) and error.absolute_path:
            yield error
        yield from _type_errors(error.context or [])


@functools.cache
def arch_params() -> dict[str, tuple[str, ...]]:
    """Each architecture's keyword arguments: the parameters of its class's constructor, read from
    the source of implicit3d.models (its `_CLASSES` registry), so that a typo in `params` fails at
    planning time without importing torch there."""
    tree = ast.parse((Path(__file__).resolve().parents[1] / "models.py").read_text())
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
    registry = next(node.value for node in tree.body if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "_CLASSES")
    params = {}
    for key, value in zip(registry.keys, registry.values, strict=True):
        init = next(f for f in classes[value.id].body if isinstance(f, ast.FunctionDef) and f.name == "__init__")
        params[key.value] = tuple(a.arg for a in init.args.args[1:] + init.args.kwonlyargs)
    return params


def check_model_params(config: dict) -> None:
    """Unknown hyperparameter names in `architectures` and `overrides` fail with the key name."""
    archs = config["architectures"]
    places = [(f"architectures.{name}.params", spec) for name, spec in archs.items()]
    for obj, per_model in (config.get("overrides") or {}).items():
        for model, spec in per_model.items():
            if model not in archs:
                raise ConfigError(f"config key 'overrides.{obj}.{model}': '{model}' is not defined under architectures")
            places.append((f"overrides.{obj}.{model}.params", {"arch": archs[model]["arch"], **spec}))
    for key, spec in places:
        allowed = arch_params().get(spec["arch"])
        unknown = sorted(set(spec.get("params") or {}) - set(allowed or ()))
        if allowed is not None and unknown:
            raise ConfigError(
                f"config key '{key}': unknown parameter '{unknown[0]}' for {spec['arch']} (allowed: {', '.join(allowed)})"
            )
