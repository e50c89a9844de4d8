"""GPU requests of the job that trains (an object's job; with object_jobs: steps, the train job) and
the SLURM profiles, checked through Snakemake's dry run."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from implicit3d import devices, workflow
from implicit3d.workflow import train_gpus

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")


def test_train_gpus_follows_device(monkeypatch):
    monkeypatch.setattr(workflow, "local_gpu_count", lambda: 0)
    assert (train_gpus("cuda"), train_gpus("auto"), train_gpus("cpu")) == (1, 0, 0)
    monkeypatch.setattr(workflow, "local_gpu_count", lambda: 2)
    assert (train_gpus("cuda"), train_gpus("auto"), train_gpus("cpu")) == (1, 1, 0)


def test_hidden_gpus_count_as_none(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert workflow.local_gpu_count() == 0


@pytest.fixture(scope="module")
def dry_workdir(tmp_path_factory):
    work = tmp_path_factory.mktemp("dry")
    for name in ("Snakefile", "workflow", "config", "environment.yml"):
        src = REPO / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, work / name)
    (work / "meshes").mkdir()
    shutil.copy(REPO / "data" / "sample_meshes" / "joint.ply", work / "meshes")
    return work


def dry_run(workdir: Path, *args: str, configs: tuple[Path, ...] = ()) -> subprocess.CompletedProcess:
    configfiles = [str(REPO / "tests" / "data" / "tiny.yaml"), *map(str, configs)]
    cmd = [str(SNAKEMAKE), "-n", "--configfile", *configfiles, "--config", "meshes=meshes", "models=[hashgrid]", *args]
    return subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=300)


def train_resources(workdir: Path, *args: str, rule: str = "object", configs: tuple[Path, ...] = ()) -> dict[str, str]:
    """The resources Snakemake's dry run plans for the (first) job of `rule`: an object's job by
    default, which trains its models (the train job with object_jobs: steps)."""
    run = dry_run(workdir, *args, configs=configs)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    block = re.search(rf"rule {rule}:\n(.*?)\n\n", run.stdout + run.stderr, re.S)
    assert block, run.stdout[-2000:]
    line = re.search(r"resources: (.*)", block.group(1)).group(1)
    return dict(item.split("=", 1) for item in line.split(", "))


def test_cuda_device_requests_a_gpu_locally(dry_workdir):
    if devices.torch_cuda() is None:  # this torch could not train on CUDA: planning says so, in one line
        run = dry_run(dry_workdir, "device=cuda")
        assert run.returncode != 0
        output = run.stdout + run.stderr
        assert "device: cuda, but torch" in output and "make setup TORCH=cuda" in output
    else:
        assert train_resources(dry_workdir, "device=cuda")["gpu"] == "1"
    assert train_resources(dry_workdir, "device=cpu")["gpu"] == "0"
    assert train_resources(dry_workdir, "device=cpu", "object_jobs=steps", rule="train")["gpu"] == "0"


def test_slurm_profile_gives_shards_the_gpu_that_training_asks_for(dry_workdir):
    profile = yaml.safe_load((REPO / "profiles" / "slurm" / "config.yaml").read_text())["set-resources"]
    assert profile["shard"].get("gpu") == profile["object"].get("gpu") == profile["train"].get("gpu") == 1
    sharded = dry_workdir / "sharded.yaml"
    sharded.write_text("shards: {size: 1, threads: 2, mem_mb: 8000, runtime: 60}\n")
    res = train_resources(dry_workdir, "--profile", str(REPO / "profiles" / "slurm"), rule="shard", configs=(sharded,))
    assert res["gpu"] == "1" and res["slurm_partition"] == "main"


def test_slurm_profile_maps_cluster_resources(dry_workdir):
    res = train_resources(dry_workdir, "--profile", str(REPO / "profiles" / "slurm"))
    assert res["gpu"] == "1" and res["cpus_per_gpu"] == "4"  # device: auto still asks for a GPU
    assert res["slurm_partition"] == "main"
    # From config/config.yaml, not the profile: an object's job reserves its stages' largest memory and their summed time.
    assert (res["mem_mb"], res["runtime"]) == ("4000", "130")


def test_ci_profile_overrides_the_user_profile(dry_workdir):
    profiles = ["--profile", str(REPO / "profiles" / "slurm"), "--profile", str(REPO / "profiles" / "slurm-ci")]
    res = train_resources(dry_workdir, *profiles)
    assert res["gpu"] == "0" and "cpus_per_gpu" not in res
    assert res["slurm_partition"] == "debug"


def test_ci_profile_avoids_sacct():
    ci = yaml.safe_load((REPO / "profiles" / "slurm-ci" / "config.yaml").read_text())
    # Without slurmdbd the plugin's default sacct status query never returns.
    assert ci["slurm-status-command"] == "squeue"
    assert yaml.safe_load((REPO / "profiles" / "slurm" / "config.yaml").read_text())["executor"] == "slurm"
