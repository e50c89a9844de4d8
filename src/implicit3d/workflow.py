"""Helpers the Snakefile uses at planning time: input discovery, config tags, model specs."""

from __future__ import annotations

import copy
import fnmatch
import hashlib
import json
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

from .errors import ConfigError


def discover_meshes(folder: str, ignore: list[str] = ()) -> dict[str, str]:
    """Map object name (file stem) to path for every file in `folder` not matched by `ignore`."""
    root = Path(folder)
    if not root.is_dir():
        raise ConfigError(f"meshes: folder '{folder}' does not exist")
    # One regular expression for all patterns and one scandir pass: 50,000 files take a fraction of a second.
    ignored = re.compile("|".join(fnmatch.translate(pat) for pat in ignore)) if ignore else None
    found: dict[str, str] = {}
    with os.scandir(root) as entries:
        names = sorted(e.name for e in entries if e.is_file() and not (ignored and ignored.match(e.name)))
    for name in names:
        path = root / name
        if path.stem in found:
            raise ConfigError(f"meshes: '{found[path.stem]}' and '{path}' would both be object '{path.stem}'")
        found[path.stem] = str(path)
    if not found:
        raise ConfigError(f"meshes: no mesh files in '{folder}'")
    return found


def config_tag(*parts: object) -> str:
    """Short content hash of config sections: outputs are stored under it, so a
    changed parameter writes new files and an unchanged one reuses the cache."""
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:10]


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


def sample_tag(config: dict) -> str:
    return config_tag(config["sampling"])


def model_tag(config: dict, model: str) -> str:
    """Tag of a model's outputs: its architecture config and the samples it trains on.
    Per-object overrides are not part of it; Snakemake's params trigger re-runs those objects."""
    return config_tag(model_spec(config, model), sample_tag(config))


def validate_config(config: dict, schema_path: str) -> None:
    """Raise a one-line ConfigError naming the offending key, before Snakemake's own
    validation (whose error dumps the whole schema)."""
    import jsonschema
    import yaml

    schema = yaml.safe_load(Path(schema_path).read_text())
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(config))
    if error is not None:
        key = ".".join(str(p) for p in error.absolute_path) or "<top level>"
        raise ConfigError(f"config key '{key}': {error.message}")
    for model in config["models"]:
        model_spec(config, model)
    check_model_params(config)
    from .devices import device_problem, gpu_left_idle

    if problem := device_problem(config["device"]):
        raise ConfigError(problem)
    if warning := gpu_left_idle(config["device"]):
        print(f"implicit3d: warning: {warning}", file=sys.stderr)


# Keyword arguments each architecture's class takes (models.py), so that a typo in `params`
# fails at planning time instead of in every training job; checked without importing torch.
# tests/test_config_faults.py keeps this in step with the classes.
ARCH_PARAMS = {
    "mlp": ("hidden", "layers", "skip", "softplus_beta"),
    "siren": ("hidden", "layers", "w0"),
    "fourier": ("hidden", "layers", "features", "sigma", "seed"),
    "hashgrid": (
        "hidden", "layers", "include_xyz",
        "levels", "features", "log2_table", "base_resolution", "max_resolution", "init_scale",
    ),
    "grid": ("resolution", "init"),
}  # fmt: skip


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
        allowed = ARCH_PARAMS.get(spec["arch"])
        unknown = sorted(set(spec.get("params") or {}) - set(allowed or ()))
        if allowed is not None and unknown:
            raise ConfigError(
                f"config key '{key}': unknown parameter '{unknown[0]}' for {spec['arch']} (allowed: {', '.join(allowed)})"
            )


def scale_with_attempt(base: int) -> Callable[..., int]:
    """Resource callable for a rule's `mem_mb` or `runtime`: `base` on a job's first attempt and
    `base * attempt` on each retry (`--retries`, set by profiles/slurm), so a job that SLURM killed
    for exceeding its memory or wall time is resubmitted with twice as much, then three times.
    Snakemake passes `attempt` by parameter name (it reads the signature), and the SLURM executor
    only ever sees the evaluated int."""
    if isinstance(base, bool) or not isinstance(base, int) or base < 1:
        raise ConfigError(f"resources: expected a positive whole number, got {base!r}")

    def resource(wildcards, attempt: int) -> int:
        return base * attempt

    return resource


def local_gpu_count() -> int:
    """NVIDIA GPUs this host shows, without importing torch (planning must stay fast)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None and visible.strip() in ("", "-1"):
        return 0
    gpus = Path("/proc/driver/nvidia/gpus")
    return sum(1 for _ in gpus.iterdir()) if gpus.is_dir() else 0


def train_gpus(device: str) -> int:
    """GPUs one training job declares: 1 for cuda, and for auto where this host has a GPU."""
    if device == "cuda":
        return 1
    return 1 if device == "auto" and local_gpu_count() > 0 else 0
