"""Helpers the Snakefile uses at planning time: the collection, output tags, resources and GPUs."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

from .config import model_spec
from .errors import ConfigError


def load_collection(config: dict):
    """The objects of a run: the collection in `meshes` as `layout` reads it, after `select`."""
    from .collection import Selection, load

    return load(config["meshes"], config.get("layout", "auto"), config.get("ignore", []), Selection.from_config(config.get("select")))


def discover_meshes(folder: str, ignore: list[str] = (), layout: str = "auto") -> dict[str, str]:
    """Object id -> mesh file for every object of the collection in `folder` (a folder or a manifest)."""
    return load_collection({"meshes": folder, "layout": layout, "ignore": list(ignore)}).paths()


def config_tag(*parts: object) -> str:
    """Short content hash of config sections: outputs are stored under it, so a
    changed parameter writes new files and an unchanged one reuses the cache."""
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:10]




def sample_tag(config: dict) -> str:
    return config_tag(config["sampling"])


def model_tag(config: dict, model: str) -> str:
    """Tag of a model's outputs: its architecture config and the samples it trains on.
    Per-object overrides are not part of it; Snakemake's params trigger re-runs those objects."""
    return config_tag(model_spec(config, model), sample_tag(config))




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
