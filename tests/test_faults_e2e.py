"""The real Snakemake workflow under faults, on a temporary copy of the repo: a folder of bad
inputs with --keep-going, a config error, and runs interrupted mid-training then resumed.

The runs target results/summary.csv (normalize to aggregate): the figure rules add minutes
and nothing to what is tested here."""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from corpus import DIRTY, FACE_LIMIT, write_corpus
from corpus import OBJECTS_BAD as BAD

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
TARGET = "results/summary.csv"
GOOD = ("joint", "rotor")
# On top of tests/data/tiny.yaml: one model, fewer steps, a coarse reconstruction grid.
FAST = {
    "models": ["hashgrid"],
    "normalize": {"max_faces": FACE_LIMIT},
    "architectures": {"hashgrid": {"training": {"steps": 60, "val_every": 30}}},
    "reconstruct": {"resolution": 24, "surface_points": 2000},
}
pytestmark = pytest.mark.slow


def setup_workdir(dest: Path) -> Path:
    for name in ("Snakefile", "workflow", "config", "environment.yml", "profiles/default"):
        src, dst = REPO / name, dest / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dst)
    (dest / "fast.yaml").write_text(yaml.safe_dump(FAST))
    meshes = dest / "meshes"
    meshes.mkdir()
    for name in GOOD:
        shutil.copy(REPO / "data" / "sample_meshes" / f"{name}.ply", meshes)
    return meshes


def command(workdir: Path, *args: str, cores: int = 2, config: tuple = ()) -> list[str]:
    configs = [str(REPO / "tests" / "data" / "tiny.yaml"), str(workdir / "fast.yaml")]
    settings = [f"meshes={workdir / 'meshes'}", *config]
    return [str(SNAKEMAKE), TARGET, "--cores", str(cores), *args, "--configfile", *configs, "--config", *settings]


def snakemake(workdir: Path, *args: str, cores: int = 2, config: tuple = ()) -> subprocess.CompletedProcess:
    cmd = command(workdir, *args, cores=cores, config=config)
    return subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=600)


def jobs_run(run: subprocess.CompletedProcess) -> list[str]:
    return re.findall(r"^(?:local)?rule (\w+):", run.stdout + run.stderr, flags=re.M)


def mtimes(paths) -> dict:
    return {str(p): p.stat().st_mtime_ns for p in paths}


def test_bad_inputs_fail_alone_and_are_listed_in_failed_csv(tmp_path):
    meshes = setup_workdir(tmp_path)
    write_corpus(meshes)
    run = snakemake(tmp_path, "--keep-going")
    log = run.stdout + run.stderr
    assert run.returncode != 0, "a run with failed objects must exit non-zero"

    failed = pd.read_csv(tmp_path / "results" / "failed.csv", keep_default_na=False)
    names = {Path(name).stem: name for name in BAD}
    assert sorted(failed.object) == sorted(names), log[-3000:]
    for row in failed.itertuples():
        fragment = BAD[names[row.object]][1]
        assert row.stage == "normalize" and row.model == ""
        assert row.error.startswith(f"{meshes / names[row.object]}: ") and fragment in row.error
        assert f"implicit3d normalize error: {row.error}" in log  # the same line on the terminal
    assert f"implicit3d: {len(BAD)} of {len(BAD) + len(DIRTY) + len(GOOD)} objects failed" in log

    summary = pd.read_csv(tmp_path / "results" / "summary.csv")
    expected = sorted([*GOOD, *(Path(n).stem for n in DIRTY)])
    assert sorted(summary.object[summary.object != "mean"]) == expected
    assert summary.f1_volume.notna().all()

    # Once the bad files are gone the next run only rebuilds the summary, and succeeds.
    models = mtimes((tmp_path / "results" / "models").rglob("*.pt"))
    for name in BAD:
        (meshes / name).unlink()
    rerun = snakemake(tmp_path)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert sorted(jobs_run(rerun)) == ["aggregate", "collection"]  # the collection lost its bad files
    assert pd.read_csv(tmp_path / "results" / "failed.csv").empty
    assert mtimes((tmp_path / "results" / "models").rglob("*.pt")) == models


@pytest.mark.parametrize(
    "setting, key",
    [
        ("sampling={seeed: 1}", "config key 'sampling': Additional properties are not allowed ('seeed' was unexpected)"),
        ("architectures={siren: {arch: siren, params: {hiden: 16}}}", "config key 'architectures.siren.params': unknown parameter 'hiden'"),
    ],
)
def test_config_error_is_one_line_naming_the_key(tmp_path, setting, key):
    setup_workdir(tmp_path)
    run = snakemake(tmp_path, "-n", config=(setting,))
    assert run.returncode != 0
    assert any(line.startswith(key) for line in (run.stdout + run.stderr).splitlines()), run.stderr[-2000:]
    assert not (tmp_path / "results").exists()


def start_and_kill(workdir: Path, sig: int, first: str, ready, timeout: float = 240) -> subprocess.Popen:
    """Run the workflow on one core, `first` and its inputs before anything else, and send
    `sig` to it and its jobs once `ready(start_time)` holds."""
    start = time.time()
    # SIGINT at its default: a shell's background job (`cmd &`) starts with it ignored, and the
    # workflow would then run to the end as if no Ctrl-C had come.
    proc = subprocess.Popen(command(workdir, "-P", first, cores=1), cwd=workdir, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    while not ready(start):
        assert proc.poll() is None and time.time() - start < timeout, "the run ended before it could be interrupted"
        time.sleep(0.02)
    os.killpg(proc.pid, sig)  # the whole process group, as Ctrl-C or a scheduler's kill would
    proc.communicate(timeout=120)
    return proc


def test_interrupted_runs_resume_without_recomputing_finished_work(tmp_path):
    """An object's job (object_jobs: chain) interrupted mid-training: the rerun finds its mesh and samples
    fresh and trains again; the object that had finished is not touched."""
    setup_workdir(tmp_path)
    results = tmp_path / "results"
    plan = snakemake(tmp_path, "-n")
    tag = re.search(r"results/eval/hashgrid/([0-9a-f]+)/joint\.json", plan.stdout).group(1)
    joint_eval = results / "eval" / "hashgrid" / tag / "joint.json"
    rotor_log = results / "logs" / "train" / "hashgrid" / tag / "rotor.log"
    rotor_model = results / "models" / "hashgrid" / tag / "rotor.pt"

    def rotor_training(start):
        # joint's job runs first (-P); then rotor's training loop has started, not finished
        return (joint_eval.exists() and rotor_log.exists() and rotor_log.stat().st_mtime >= start
                and "train hashgrid" in rotor_log.read_text() and not rotor_model.exists())

    # Ctrl-C mid-training: Snakemake stops its jobs and exits non-zero; joint stays finished.
    stopped = start_and_kill(tmp_path, signal.SIGINT, str(joint_eval.relative_to(tmp_path)), rotor_training)
    assert stopped.returncode != 0 and not rotor_model.exists()
    finished = mtimes([joint_eval, *results.glob("models/*/*/joint.*")])
    # Snakemake touches the outputs a job left as they were: compare the rotor's upstream files by content.
    upstream = {p: p.read_bytes() for p in [*results.glob("normalized/rotor.*"), *results.glob("samples/*/rotor.parquet")]}
    assert len(upstream) == 3

    # A hard kill mid-training leaves Snakemake's lock behind: --unlock, then a plain rerun.
    killed = start_and_kill(tmp_path, signal.SIGKILL, str(joint_eval.relative_to(tmp_path)), rotor_training)
    assert killed.returncode == -signal.SIGKILL and not rotor_model.exists()
    locked = snakemake(tmp_path)
    assert locked.returncode != 0 and "--unlock" in locked.stdout + locked.stderr
    assert snakemake(tmp_path, "--unlock").returncode == 0

    resumed = snakemake(tmp_path)  # no --rerun-incomplete: profiles/default sets it
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert jobs_run(resumed).count("object") == 1 and rotor_model.exists()
    log = (results / "logs" / "object" / "rotor.log").read_text()
    assert re.search(r"^normalize +fresh", log, re.M) and re.search(r"^sample +fresh", log, re.M), log
    assert {p: p.read_bytes() for p in upstream} == upstream
    assert mtimes(map(Path, finished)) == finished
    assert sorted(pd.read_csv(results / "summary.csv").object) == ["joint", "mean", "rotor"]


def test_sharded_run_isolates_bad_inputs_and_resumes(tmp_path):
    """Shards of 4 objects: a bad input fails its shard's job, yet every good object of every shard is
    summarized and the bad ones are listed; once they are gone, no model is trained again."""
    meshes = setup_workdir(tmp_path)
    write_corpus(meshes)
    fast = yaml.safe_load((tmp_path / "fast.yaml").read_text())
    fast["shards"] = {"size": 4, "threads": 1, "mem_mb": 2000, "runtime": 30}
    (tmp_path / "fast.yaml").write_text(yaml.safe_dump(fast))
    run = snakemake(tmp_path, "--keep-going")
    log = run.stdout + run.stderr
    assert run.returncode != 0
    assert "shard" in jobs_run(run) and "normalize" not in jobs_run(run), "the top-level run plans shards only"

    failed = pd.read_csv(tmp_path / "results" / "failed.csv", keep_default_na=False)
    assert sorted(failed.object) == sorted(Path(name).stem for name in BAD), log[-3000:]
    assert set(failed.stage) == {"normalize"}
    summary = pd.read_csv(tmp_path / "results" / "summary.csv")
    expected = sorted([*GOOD, *(Path(n).stem for n in DIRTY)])
    assert sorted(summary.object[summary.object != "mean"]) == expected

    models = mtimes((tmp_path / "results" / "models").rglob("*.pt"))
    for name in BAD:
        (meshes / name).unlink()
    rerun = snakemake(tmp_path)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert set(jobs_run(rerun)) <= {"shard", "aggregate", "collection"}
    assert pd.read_csv(tmp_path / "results" / "failed.csv").empty
    assert mtimes((tmp_path / "results" / "models").rglob("*.pt")) == models
