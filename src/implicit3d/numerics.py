"""The same numbers on any x86-64 CPU: which CPU-specific code paths the numeric libraries may
take, fixed when implicit3d is imported (before torch's first matrix product).

Measured on the tiny sample chain (`tests/test_cpu_identity.py`): the ground truth (numba, no
fast-math; its rays are compiled float64, not Embree) gives the same bits for numba's generic,
Haswell, Skylake-AVX512 and host targets, and NumPy's and OpenBLAS's dispatch levels do not change
it. Training does change with the BLAS code path: oneMKL, which torch's CPU build uses for its
matrix products, picks kernels by vendor and instruction set (on a non-Intel CPU only its AUTO
and COMPATIBLE branches exist), so an Intel Xeon with AVX-512 and an AMD EPYC train different
weights from the same samples. MKL's COMPATIBLE branch (SSE2 without approximate reciprocals,
its conditional numerical reproducibility mode) is the same on every x86-64 CPU; it costs
training time (`benchmarks/cpu_numerics.py`). Set MKL_CBWR yourself (e.g. AUTO) to trade the
identity for speed.

torch's own kernels give the same bits at its AVX2 and AVX-512 levels; its DEFAULT level (CPUs
without AVX2) gives slightly different weights, which the test bounds rather than pins: pinning
every CPU to it would cost as much again.
"""

from __future__ import annotations

import os

# oneMKL's branch for conditional numerical reproducibility: the same results on any x86-64 CPU.
MKL_BRANCH = "COMPATIBLE"


def pin_cpu_code_paths() -> None:
    """Make the numeric libraries take the same code path on every CPU, unless the environment
    already chose one. Must run before torch's first matrix product (MKL reads it then)."""
    os.environ.setdefault("MKL_CBWR", MKL_BRANCH)
