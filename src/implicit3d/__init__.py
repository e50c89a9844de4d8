"""implicit3d: learn and evaluate per-object neural signed distance functions."""

from .numerics import pin_cpu_code_paths

__version__ = "0.1.0"

pin_cpu_code_paths()  # before any torch computation: the same numbers on any x86-64 CPU (`numerics`)
