"""`dvc repro` of the real pipeline in a temporary git repo: reproduce, no-op, one changed mesh,
push / wipe / pull, a queued two-point sweep (`dvc exp`). Two small meshes, one model, tiny
training settings."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import trimesh
import yaml

from implicit3d.config import merge

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
pytestmark = pytest.mark.slow


def run(cwd: Path, *cmd: str, check: bool = True) -> subprocess.CompletedProcess:
    # The stage runs `snakemake`: the test's environment must come first on PATH.
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1"}
    env.pop("SNAKEMAKE_PROFILE", None)
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    if check:
        assert proc.returncode == 0, f"{' '.join(cmd)}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def git(cwd: Path, *args: str) -> None:
    run(cwd, "git", "-c", "user.name=test", "-c", "user.email=test@example.com", *args)


def dvc(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return run(cwd, str(BIN / "dvc"), *args)


def digests(root: Path, paths: list[str]) -> dict[str, str]:
    """md5 of every file under the given paths (relative to root)."""
    out = {}
    for rel in paths:
        for f in sorted(p for p in (root / rel).rglob("*") if p.is_file()) if (root / rel).is_dir() else [root / rel]:
            if f.name != ".gitignore":
                out[str(f.relative_to(root))] = hashlib.md5(f.read_bytes()).hexdigest()
    return out


def dvc_outs(root: Path, cached: bool | None = None) -> list[str]:
    """The stage's outputs; only those in the DVC cache (True) or only those in git (False)."""
    stage = yaml.safe_load((root / "dvc.yaml").read_text())["stages"]["workflow"]
    outs = [(o, {}) if isinstance(o, str) else next(iter(o.items())) for kind in ("outs", "metrics", "plots") for o in stage.get(kind, [])]
    return [path for path, props in outs if cached is None or (props or {}).get("cache", True) == cached]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A copy of the project as its own git + DVC repo, reproduced once with `dvc repro`."""
    root = tmp_path_factory.mktemp("dvc") / "project"
    root.mkdir()
    for name in ("Snakefile", "workflow", "config", "environment.yml", "dvc.yaml", ".dvcignore", ".gitignore", ".dvc", "src"):
        src = REPO / name
        ignore = shutil.ignore_patterns("cache", "tmp", "config.local", "__pycache__", "*.egg-info")
        (shutil.copytree(src, root / name, ignore=ignore) if src.is_dir() else shutil.copy(src, root / name))
    (root / "meshes").mkdir()
    for name in ("joint.ply", "rotor.ply"):
        shutil.copy(REPO / "data" / "sample_meshes" / name, root / "meshes" / name)
    # DVC tracks config/config.yaml as the parameters, so the tiny settings go into it.
    config = yaml.safe_load((root / "config" / "config.yaml").read_text())
    merge(config, yaml.safe_load((REPO / "tests" / "data" / "tiny.yaml").read_text()))
    config.update(meshes="meshes", models=["hashgrid"])
    (root / "config" / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))

    git(root, "init", "-q")
    dvc(root, "add", "meshes")  # the input collection is versioned by DVC, not git
    git(root, "add", "-A")
    git(root, "commit", "-qm", "project")
    repro = dvc(root, "repro")
    assert "Running stage 'workflow'" in repro.stdout
    git(root, "add", "-A")
    git(root, "commit", "-qm", "first reproduction")
    return root


def model_files(root: Path) -> dict[str, tuple[str, int]]:
    return {str(p.relative_to(root / "results" / "models")): (hashlib.md5(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns) for p in (root / "results" / "models").rglob("*") if p.is_file()}


def test_repro_writes_summary_metrics_and_plots(project):
    table = pd.read_csv(project / "results" / "summary.csv", dtype={"object": str})
    assert sorted(table[table.object != "mean"].object) == ["joint", "rotor"]
    shown = json.loads(dvc(project, "metrics", "show", "--json").stdout)
    metrics = next(iter(shown.values()))["data"]["results/metrics.json"]["data"]
    assert metrics == json.loads((project / "results" / "metrics.json").read_text())
    assert metrics["hashgrid"]["objects"] == 2
    assert metrics["hashgrid"]["f1_volume"] == pytest.approx(table[table.object != "mean"].f1_volume.mean())
    plot = json.loads(dvc(project, "plots", "show", "--json").stdout)
    assert sorted(plot["data"]) == ["results/plots/f1.csv", "results/plots/loss/hashgrid.csv"] and not plot.get("errors")
    curve = pd.read_csv(project / "results" / "plots" / "loss" / "hashgrid.csv")
    assert list(curve.step) == [50, 100, 150] and set(curve.objects) == {2}  # tiny.yaml: 150 steps, val_every 50


def test_metrics_and_plots_are_in_git_not_the_cache(project):
    # cache: false, so that a fresh clone can `dvc metrics diff` / `dvc exp show` any commit without a pull
    in_git = dvc_outs(project, cached=False)
    assert sorted(in_git) == ["results/metrics.json", "results/plots/f1.csv", "results/plots/loss", "results/timings.json"]
    files = subprocess.run(["git", "ls-files", *in_git], cwd=project, capture_output=True, text=True, check=True).stdout.split()
    assert sorted(files) == ["results/metrics.json", "results/plots/f1.csv", "results/plots/loss/hashgrid.csv", "results/timings.json"]


def test_every_result_is_a_dvc_output(project):
    # A product the workflow adds under results/ must be declared in dvc.yaml to be versioned.
    declared = set(dvc_outs(project))
    produced = {str(p.relative_to(project)) for p in (project / "results").iterdir() if p.name not in ("logs", ".gitignore")}
    undeclared = {p for p in produced if not any(p == d or d.startswith(p + "/") for d in declared)}
    assert not undeclared, f"results not declared as outs in dvc.yaml: {sorted(undeclared)}"


def test_second_repro_is_a_no_op(project):
    before = model_files(project)
    out = dvc(project, "repro").stdout
    assert "Stage 'workflow' didn't change, skipping" in out and "Running stage" not in out
    assert model_files(project) == before


def test_changed_mesh_reruns_only_that_object(project):
    before = model_files(project)
    mesh = trimesh.load(project / "meshes" / "joint.ply")
    mesh.apply_scale([1.5, 1.0, 1.0])  # a real shape change: normalization cannot undo it
    mesh.export(project / "meshes" / "joint.ply")
    out = dvc(project, "repro").stdout
    assert "Running stage 'workflow'" in out
    after = model_files(project)
    assert set(after) == set(before)
    changed = sorted(name for name in after if after[name] != before[name])
    assert {Path(n).stem for n in changed} == {"joint"}, changed
    for name in after:
        if Path(name).stem == "rotor":
            assert after[name] == before[name], name  # not retrained: same bytes, same mtime
    diff = json.loads(dvc(project, "metrics", "diff", "--json").stdout)
    assert "hashgrid.f1_volume" in diff["results/metrics.json"]  # workspace vs the last commit
    assert "up to date" in dvc(project, "status").stdout
    git(project, "add", "-A")
    git(project, "commit", "-qm", "stretched joint")


def test_push_wipe_pull_restores_identical_files(project):
    dvc(project, "push")
    assert (project.parent / "implicit3d-dvc-remote").is_dir()  # the default remote, beside the clone
    tracked = dvc_outs(project, cached=True) + ["meshes"]  # the others are in git
    before = digests(project, tracked)
    assert any(k.startswith("results/models/") for k in before) and "meshes/rotor.ply" in before
    for rel in tracked:
        path = project / rel
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    shutil.rmtree(project / ".dvc" / "cache")
    dvc(project, "pull")
    assert digests(project, tracked) == before
    assert "up to date" in dvc(project, "status").stdout


def queue_status(root: Path) -> str:
    return dvc(root, "queue", "status").stdout


def queue_report(root: Path) -> str:
    """The queue's status and the end of each task's log, for a failure message."""
    status = queue_status(root)
    names = [line.split()[1] for line in status.splitlines() if line.split()[-1:] in (["Success"], ["Failed"])]
    return status + "".join(run(root, str(BIN / "dvc"), "queue", "logs", n, check=False).stdout[-2000:] for n in names)


def test_queued_sweep_runs_each_point_and_compares(project):
    # docs/reproducibility.md, "Experiments": queue one experiment per value, run the queue, compare.
    # Queued experiments run in temporary clones; the meshes and the baseline's results come from
    # the DVC cache there. tiny.yaml has log2_table 12: both points retrain the hash grid.
    values = {8, 10}
    for value in sorted(values):
        dvc(project, "exp", "run", "--queue", "-S", f"config/config.yaml:architectures.hashgrid.params.log2_table={value}")
    dvc(project, "queue", "start")
    deadline = time.monotonic() + 800
    while any(state in queue_status(project) for state in ("Queued", "Running")):
        assert time.monotonic() < deadline, queue_status(project)
        time.sleep(2)
    assert queue_status(project).count("Success") == 2, queue_report(project)

    shown = json.loads(dvc(project, "exp", "show", "--json").stdout)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=project, capture_output=True, text=True, check=True).stdout.strip()
    baseline = next(b for b in shown if b["rev"] == head)
    points = {}
    for exp in baseline["experiments"] or []:
        data = exp["revs"][0]["data"]
        log2_table = data["params"]["config/config.yaml"]["data"]["architectures"]["hashgrid"]["params"]["log2_table"]
        points[log2_table] = (exp["name"], exp["executor"]["state"], data["metrics"]["results/metrics.json"]["data"]["hashgrid"])
    assert set(points) == values, points
    assert all(state == "success" for _, state, _ in points.values()), points
    small, large = points[8][2], points[10][2]
    assert small["objects"] == large["objects"] == 2
    assert small["model_bytes"] < large["model_bytes"]  # tables of at most 2^8 vs 2^10 rows per level

    names = [points[8][0], points[10][0]]
    diff = json.loads(dvc(project, "metrics", "diff", "--json", *names).stdout)["results/metrics.json"]
    assert diff["hashgrid.model_bytes"]["diff"] == large["model_bytes"] - small["model_bytes"]
    curves = json.loads(dvc(project, "plots", "diff", "--json", *names).stdout)["data"]["results/plots/loss/hashgrid.csv"]
    assert set(curves[0]["revisions"]) == set(names)  # both training curves in one chart
    assert "up to date" in dvc(project, "status").stdout  # the workspace is left as it was
