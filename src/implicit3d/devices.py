"""Which device training can use, and what to say when it is not the one asked for: torch's build
(CPU-only or CUDA, read from its files without importing it, so planning stays fast) against
`device:` and the host's NVIDIA GPUs (`workflow.local_gpu_count`)."""

from __future__ import annotations

import importlib.util
import re
from importlib import metadata
from pathlib import Path

# The `device` column of a run that had a GPU but trained on the CPU (the summary shows it).
CPU_DESPITE_GPU = "cpu (GPU present, CPU-only torch)"
INSTALL_CUDA = "make setup TORCH=cuda, or conda env create -f environment-cuda.yml"


def torch_version() -> str:
    try:
        return metadata.version("torch")
    except metadata.PackageNotFoundError:
        return "(not installed)"


def torch_cuda() -> str | None:
    """The CUDA version torch was built for, None for a CPU-only build (torch/version.py's `cuda`)."""
    spec = importlib.util.find_spec("torch")
    if spec is None or spec.origin is None:
        return None
    text = (Path(spec.origin).parent / "version.py").read_text()
    found = re.search(r"^cuda\s*(?::[^=]*)?=\s*(.+)$", text, re.M)
    value = found[1].strip() if found else "None"
    return None if value == "None" else value.strip("'\"")


def device_problem(device: str) -> str | None:
    """Why `device` cannot train here at all, in one line (with what to install), or None."""
    if device == "cuda" and torch_cuda() is None:
        return f"device: cuda, but torch {torch_version()} is a CPU-only build: install its CUDA build ({INSTALL_CUDA}) or set device: cpu"
    return None


def gpu_left_idle(device: str) -> str | None:
    """A warning when `device: auto` will train on the CPU although this host has an NVIDIA GPU."""
    from . import workflow

    gpus = workflow.local_gpu_count()
    if device == "auto" and gpus and torch_cuda() is None:
        return f"device: auto trains on the CPU: this host has {gpus} NVIDIA GPU(s) but torch {torch_version()} is CPU-only ({INSTALL_CUDA} installs the CUDA build)"
    return None


def device_label(used: str, requested: str) -> str:
    """The device a job trained on, as the summary's `device` column shows it."""
    return CPU_DESPITE_GPU if used == "cpu" and gpu_left_idle(requested) else used
