"""`dvc repro` of the real pipeline in a temporary git repo: reproduce, no-op, one changed mesh,
push / wipe / pull. Two small meshes, one model, tiny training settings."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import trimesh
import yaml

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


def deep_merge(base: dict, extra: dict) -> dict:
    for key, value in extra.items():
        base[key] = deep_merge(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return base


def digests(root: Path, paths: list[str]) -> dict[str, str]:
    """md5 of every file under the given paths (relative to root)."""
    out = {}
    for rel in paths:
        for f in sorted(p for p in (root / rel).rglob("*") if p.is_file()) if (root / rel).is_dir() else [root / rel]:
            if f.name != ".gitignore":
                out[str(f.relative_to(root))] = hashlib.md5(f.read_bytes()).hexdigest()
    return out


def dvc_outs(root: Path) -> list[str]:
    stage = yaml.safe_load((root / "dvc.yaml").read_text())["stages"]["workflow"]
    return [next(iter(o)) if isinstance(o, dict) else o for kind in ("outs", "metrics", "plots") for o in stage.get(kind, [])]


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
    deep_merge(config, yaml.safe_load((REPO / "tests" / "data" / "tiny.yaml").read_text()))
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
    assert any("results/plots/f1.csv" in name for name in plot["data"])


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
    tracked = dvc_outs(project) + ["meshes"]
    before = digests(project, tracked)
    assert any(k.startswith("results/models/") for k in before) and "meshes/rotor.ply" in before
    for rel in tracked:
        path = project / rel
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    shutil.rmtree(project / ".dvc" / "cache")
    dvc(project, "pull")
    assert digests(project, tracked) == before
    assert "up to date" in dvc(project, "status").stdout
