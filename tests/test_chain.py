"""One object's chain in one process (implicit3d.chain): the workflow's files, and a rerun that redoes
only the stages whose outputs are missing, older than their inputs, or made with other settings."""

import copy
import os
import time
from pathlib import Path

import pytest

from implicit3d.chain import fit_object, object_files
from implicit3d.config import resolve_config
from implicit3d.errors import ConfigError
from implicit3d.products import Products

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def config():
    config, _ = resolve_config(REPO, [REPO / "tests" / "data" / "tiny.yaml"], ["models=[hashgrid]", "products.figures=[slices]"])
    return config


def run(mesh, out, config, **kwargs) -> dict[str, str]:
    """Each stage's line: 'fresh' or its seconds."""
    lines = []
    fit_object(mesh, out, "joint", config, report=lines.append, **kwargs)
    stages = {}
    for line in lines:
        parts = line.split()
        with_model = parts[1] == "hashgrid"
        stages[" ".join(parts[:2]) if with_model else parts[0]] = parts[2] if with_model else parts[1]
    return stages


def test_a_rerun_redoes_only_what_is_missing_or_stale(tmp_path, config):
    mesh = tmp_path / "joint.ply"
    mesh.write_bytes((REPO / "data" / "sample_meshes" / "joint.ply").read_bytes())
    first = run(mesh, tmp_path / "results", config, skip_fresh=True)
    assert list(first) == ["normalize", "sample", "train hashgrid", "evaluate hashgrid", "reconstruct hashgrid", "figures hashgrid"]
    assert "fresh" not in first.values()
    files = object_files(tmp_path / "results", "joint", config, ["hashgrid"])
    made = {p: p.stat().st_mtime_ns for p in (tmp_path / "results").rglob("*") if p.is_file() and "logs" not in p.parts}
    assert files.figure("hashgrid", "slices") in made and files.figure("hashgrid", "render") not in made

    assert set(run(mesh, tmp_path / "results", config, skip_fresh=True).values()) == {"fresh"}
    assert {p: p.stat().st_mtime_ns for p in made} == made  # nothing was written again

    files.evaluation("hashgrid").unlink()  # a missing output: that stage, and what reads it, again
    again = run(mesh, tmp_path / "results", config, skip_fresh=True)
    assert [s for s, v in again.items() if v != "fresh"] == ["evaluate hashgrid", "figures hashgrid"]

    changed = copy.deepcopy(config)
    changed["reconstruct"]["resolution"] = 40  # another setting: that stage again (its path has no tag)
    again = run(mesh, tmp_path / "results", changed, skip_fresh=True)
    assert [s for s, v in again.items() if v != "fresh"] == ["reconstruct hashgrid", "figures hashgrid"]

    time.sleep(0.01)
    os.utime(mesh)  # a newer input mesh: everything again
    assert "fresh" not in run(mesh, tmp_path / "results", changed, skip_fresh=True).values()


def test_products_choose_what_an_object_yields(tmp_path, config):
    lean = copy.deepcopy(config)
    lean["products"] = {"reconstruction": False, "figures": [], "figures_for": "all", "viewer": False}
    run(REPO / "data" / "sample_meshes" / "joint.ply", tmp_path, lean)
    assert not (tmp_path / "meshes").exists() and not (tmp_path / "figures").exists()
    assert list((tmp_path / "eval" / "hashgrid").rglob("joint.json"))
    lean["products"]["figures"] = ["slices", "trace"]
    with pytest.raises(ConfigError, match="trace, viewer need products.reconstruction: true"):
        Products.from_config({**lean, "products": {**lean["products"], "viewer": True}})
    assert Products.from_config({"products": {"figures_for": 3}}).per_object_figures == ()
