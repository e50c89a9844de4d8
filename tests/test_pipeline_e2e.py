"""Runs the real Snakemake workflow on a temporary copy of the repo."""

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from implicit3d.summary import KEY_COLUMNS

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
pytestmark = pytest.mark.slow


def copy_workflow(dest: Path) -> Path:
    for name in ("Snakefile", "workflow", "config", "environment.yml"):
        src = REPO / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dest / name)
    meshes = dest / "meshes"
    meshes.mkdir()
    for name in ("joint.ply", "rotor.ply"):
        shutil.copy(REPO / "data" / "sample_meshes" / name, meshes / name)
    return meshes


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [str(SNAKEMAKE), "--cores", "2", "--configfile", str(REPO / "tests" / "data" / "tiny.yaml"), *args]
    return subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("wf")
    meshes = copy_workflow(workdir)
    run = snakemake(workdir, "--config", f"meshes={meshes}")
    assert run.returncode == 0, run.stderr[-3000:]
    return workdir


def test_summary_has_every_object_and_model(finished_run):
    table = pd.read_csv(finished_run / "results" / "summary.csv", dtype={"object": str})
    assert list(table.columns[: len(KEY_COLUMNS)]) == KEY_COLUMNS
    rows = table[table.object != "mean"]
    assert sorted(zip(rows.model, rows.object)) == [
        ("hashgrid", "joint"), ("hashgrid", "rotor"), ("siren", "joint"), ("siren", "rotor")
    ]
    assert ((rows.f1_near >= 0) & (rows.f1_near <= 1) & (rows.f1_volume >= 0) & (rows.f1_volume <= 1)).all()
    assert (rows.model_bytes > 0).all() and (rows.train_seconds > 0).all() and (rows.infer_points_per_s > 0).all()
    # Even 150 steps of the hash grid separate inside from outside on these simple solids.
    assert (rows[rows.model == "hashgrid"].f1_volume > 0.8).all()
    means = table[table.object == "mean"].set_index("model")
    assert means.loc["hashgrid", "f1_near"] == pytest.approx(rows[rows.model == "hashgrid"].f1_near.mean())
    assert (finished_run / "results" / "summary.parquet").exists()
    assert "| mean | hashgrid |" in (finished_run / "results" / "summary.md").read_text()


def test_every_rule_wrote_its_log(finished_run):
    logs = finished_run / "results" / "logs"
    for stage in ("normalize", "sample", "train", "evaluate"):
        assert list((logs / stage).rglob("*.log")), stage
    assert (logs / "aggregate.log").exists()


def test_second_run_has_nothing_to_do(finished_run):
    run = snakemake(finished_run, "--config", f"meshes={finished_run / 'meshes'}", "-n")
    assert run.returncode == 0
    assert "Nothing to be done" in run.stdout + run.stderr


def test_bad_config_fails_before_any_job_with_the_key_name(tmp_path):
    meshes = copy_workflow(tmp_path)
    run = snakemake(tmp_path, "--config", f"meshes={meshes}", "device=gpu")
    assert run.returncode != 0
    assert "config key 'device'" in run.stderr + run.stdout
    assert not (tmp_path / "results").exists()
