"""The same numbers on any x86-64 CPU: the sample chain, ground truth included, under the settings
that differ between CPUs, in fresh processes.

One machine cannot be another CPU, but it can take the code paths another CPU would: numba's
target CPU (generic instead of this host's), torch's dispatch level, oneMKL's and oneDNN's
instruction sets, NumPy's dispatched SIMD and OpenBLAS's kernels. Under all of them at once the
test points, the weights and the metrics must be the same bits as under this host's own. Embree,
whose kernels differ by instruction set, is not on the default path any more: the other run goes
without it altogether. torch's DEFAULT level, what a CPU without AVX2 gets, trains slightly different weights:
pinning every CPU to it would cost about as much training time again (`implicit3d.numerics`), so
there the difference is held below a bound instead.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from implicit3d.io import read_json, read_points

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_determinism import MESH, MODELS, SAMPLING, without_timings  # noqa: E402

CHAIN = """
import json, os, sys
if os.environ.get("CHAIN_WITHOUT_EMBREE"):
    sys.modules["embreex"] = None  # importing it fails: trimesh falls back to its own rays
from implicit3d.stages import evaluate, normalize, sample, train
mesh, out, sampling, spec = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
normalize(mesh, f"{out}/n.ply", f"{out}/n.json")
sample(f"{out}/n.ply", f"{out}/s.parquet", sampling)
train(f"{out}/s.parquet", f"{out}/n.ply", f"{out}/m.pt", f"{out}/m.json", spec, threads=1, device="cpu", progress=False)
evaluate(f"{out}/m.pt", f"{out}/m.json", f"{out}/s.parquet", f"{out}/e.json", "joint", "hashgrid", threads=1)
"""

# torch's DEFAULT level against this host's: how far the weights and metrics may move.
WEIGHT_BOUND = 1e-3
F1_BOUND = 0.01


def other_cpu(tmp_path: Path) -> dict:
    """The code paths a different x86-64 CPU would take, as far as environment settings reach."""
    from numpy._core._multiarray_umath import __cpu_dispatch__

    return {
        "NUMBA_CPU_NAME": "generic",  # numba: no host-specific instructions
        "NUMBA_CACHE_DIR": str(tmp_path / "numba_generic"),
        "ATEN_CPU_CAPABILITY": "avx2",  # torch: the AVX2 kernels, not AVX-512
        "MKL_ENABLE_INSTRUCTIONS": "AVX2",  # oneMKL on an Intel CPU: no AVX-512 kernels
        "ONEDNN_MAX_CPU_ISA": "AVX2",
        "NPY_DISABLE_CPU_FEATURES": " ".join(__cpu_dispatch__),  # NumPy: its baseline SIMD only
        "OPENBLAS_CORETYPE": "Prescott",  # NumPy's OpenBLAS: its SSE3 kernels
        "CHAIN_WITHOUT_EMBREE": "1",  # Embree's kernels, any instruction set: none
    }


def run_chain(out: Path, settings: dict) -> None:
    out.mkdir()
    env = {**os.environ, **settings}
    spec = MODELS["hashgrid"]
    done = subprocess.run([sys.executable, "-c", CHAIN, str(MESH), str(out), json.dumps(SAMPLING), json.dumps(spec)], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{settings}:\n{done.stderr[-3000:]}"


def weights(out: Path) -> dict:
    return torch.load(out / "m.pt", weights_only=True)["state_dict"]


@pytest.fixture(scope="module")
def host(tmp_path_factory) -> Path:
    """The chain under this host's own code paths."""
    out = tmp_path_factory.mktemp("cpu") / "host"
    run_chain(out, {})
    return out


def test_chain_gives_the_same_bits_under_another_cpus_code_paths(host, tmp_path):
    other = tmp_path / "other"
    run_chain(other, other_cpu(tmp_path))
    (points_host, meta_host), (points_other, meta_other) = read_points(host / "s.parquet"), read_points(other / "s.parquet")
    pd.testing.assert_frame_equal(points_host, points_other, check_exact=True)
    assert meta_host == meta_other
    a, b = weights(host), weights(other)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), "weights differ"
    assert without_timings(read_json(host / "e.json")) == without_timings(read_json(other / "e.json"))


def test_torch_default_level_stays_within_a_bound(host, tmp_path):
    plain = tmp_path / "plain"
    run_chain(plain, {"ATEN_CPU_CAPABILITY": "default"})
    pd.testing.assert_frame_equal(read_points(host / "s.parquet")[0], read_points(plain / "s.parquet")[0], check_exact=True)
    a, b = weights(host), weights(plain)
    largest = max(float((a[k].double() - b[k].double()).abs().max()) for k in a)
    print(f"torch DEFAULT against this host: largest weight difference {largest:.3g}")
    assert largest <= WEIGHT_BOUND
    ea, eb = read_json(host / "e.json"), read_json(plain / "e.json")
    assert abs(ea["f1_near"] - eb["f1_near"]) <= F1_BOUND and abs(ea["f1_volume"] - eb["f1_volume"]) <= F1_BOUND
    assert np.isfinite(largest)


def test_importing_implicit3d_pins_mkl_unless_the_environment_chose():
    code = "import os, implicit3d; print(os.environ['MKL_CBWR'])"
    env = {k: v for k, v in os.environ.items() if k != "MKL_CBWR"}
    pinned = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout.strip()
    chosen = subprocess.run([sys.executable, "-c", code], env={**env, "MKL_CBWR": "AUTO"}, capture_output=True, text=True, check=True).stdout.strip()
    assert (pinned, chosen) == ("COMPATIBLE", "AUTO")
