"""Which device training uses, and what a run says when it cannot use the one asked for."""

from __future__ import annotations

import importlib
import importlib.util
import logging
from pathlib import Path

import pytest

from implicit3d import devices, workflow
from implicit3d.config import validate_config
from implicit3d.errors import ConfigError, TrainingError
from implicit3d.io import read_json

REPO = Path(__file__).resolve().parents[1]
MESH = REPO / "data" / "sample_meshes" / "joint.ply"
SAMPLING = {"method": "exact", "volume": "sphere", "seed": 0, "train": {"near_count": 2000, "near_std": 0.01, "volume_count": 1000},
            "val": {"near_count": 200, "near_std": 0.01, "volume_count": 200}, "test": {"near_count": 500, "near_std": 0.01, "volume_count": 500}}  # fmt: skip
SPEC = {"arch": "hashgrid", "params": {"levels": 2, "log2_table": 8, "base_resolution": 4, "max_resolution": 8, "hidden": 8, "layers": 1},
        "training": {"steps": 5, "batch_size": 256, "val_every": 5}}  # fmt: skip


def fake_torch(monkeypatch, tmp_path: Path, cuda: str) -> None:
    """A torch whose version.py says it was built for `cuda` (None: a CPU build)."""
    package = tmp_path / "torch"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "version.py").write_text(f"from typing import Optional\n__version__ = '2.13.0'\ncuda: Optional[str] = {cuda}\n")
    spec = importlib.util.spec_from_file_location("torch", package / "__init__.py")
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: spec if name == "torch" else None)


def test_torch_build_is_read_from_its_files(monkeypatch, tmp_path):
    fake_torch(monkeypatch, tmp_path / "cpu", "None")
    assert devices.torch_cuda() is None
    fake_torch(monkeypatch, tmp_path / "gpu", "'13.0'")
    assert devices.torch_cuda() == "13.0"


def test_cuda_with_a_cpu_only_torch_names_the_problem_and_the_cure(monkeypatch):
    monkeypatch.setattr(devices, "torch_cuda", lambda: None)
    problem = devices.device_problem("cuda")
    assert "CPU-only" in problem and "make setup TORCH=cuda" in problem and "\n" not in problem
    assert devices.device_problem("auto") is None and devices.device_problem("cpu") is None
    monkeypatch.setattr(devices, "torch_cuda", lambda: "13.0")
    assert devices.device_problem("cuda") is None


def test_planning_fails_at_once_for_cuda_without_a_cuda_torch(monkeypatch):
    import yaml

    monkeypatch.setattr(devices, "torch_cuda", lambda: None)
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config["device"] = "cuda"
    with pytest.raises(ConfigError, match="device: cuda, but torch .* CPU-only build"):
        validate_config(config, str(REPO / "config" / "schema.yaml"))


def test_auto_with_a_gpu_and_a_cpu_torch_warns(monkeypatch, capsys):
    import yaml

    monkeypatch.setattr(devices, "torch_cuda", lambda: None)
    monkeypatch.setattr(workflow, "local_gpu_count", lambda: 1)
    assert "1 NVIDIA GPU" in devices.gpu_left_idle("auto") and devices.gpu_left_idle("cpu") is None
    assert devices.device_label("cpu", "auto") == devices.CPU_DESPITE_GPU
    validate_config(yaml.safe_load((REPO / "config" / "config.yaml").read_text()), str(REPO / "config" / "schema.yaml"))
    assert "warning: device: auto trains on the CPU" in capsys.readouterr().err
    monkeypatch.setattr(workflow, "local_gpu_count", lambda: 0)
    assert devices.gpu_left_idle("auto") is None and devices.device_label("cpu", "auto") == "cpu"
    monkeypatch.setattr(workflow, "local_gpu_count", lambda: 1)
    monkeypatch.setattr(devices, "torch_cuda", lambda: "13.0")
    assert devices.gpu_left_idle("auto") is None


@pytest.fixture(scope="module")
def sampled(tmp_path_factory) -> Path:
    from implicit3d.stages import normalize, sample

    out = tmp_path_factory.mktemp("device")
    normalize(str(MESH), str(out / "n.ply"), str(out / "n.json"))
    sample(str(out / "n.ply"), str(out / "s.parquet"), SAMPLING)
    return out


def test_train_job_fails_before_drawing_its_pool_when_cuda_is_missing(sampled, monkeypatch):
    import torch

    from implicit3d.stages import train

    if torch.cuda.is_available():
        pytest.skip("this host trains on CUDA")
    stage = importlib.import_module("implicit3d.stages.train")  # the module: `stages.train` is its function
    monkeypatch.setattr(stage, "training_pool", lambda *a, **k: pytest.fail("drew the pool before checking the device"))
    with pytest.raises(TrainingError, match="device: cuda, but torch"):
        train(str(sampled / "s.parquet"), str(sampled / "n.ply"), str(sampled / "m.pt"), str(sampled / "m.json"), SPEC, device="cuda", progress=False)


def test_summary_device_column_says_the_gpu_was_left_idle(sampled, monkeypatch, caplog):
    import torch

    from implicit3d.stages import evaluate, train

    if torch.cuda.is_available():
        pytest.skip("this host trains on CUDA")
    monkeypatch.setattr(devices, "torch_cuda", lambda: None)
    monkeypatch.setattr(workflow, "local_gpu_count", lambda: 1)
    with caplog.at_level(logging.WARNING, logger="implicit3d"):
        info = train(str(sampled / "s.parquet"), str(sampled / "n.ply"), str(sampled / "m.pt"), str(sampled / "m.json"), SPEC, device="auto", progress=False)
    assert info["device"] == devices.CPU_DESPITE_GPU
    assert any("device: auto trains on the CPU" in r.getMessage() for r in caplog.records)
    evaluate(str(sampled / "m.pt"), str(sampled / "m.json"), str(sampled / "s.parquet"), str(sampled / "e.json"), "joint", "hashgrid")
    assert read_json(sampled / "e.json")["device"] == devices.CPU_DESPITE_GPU
