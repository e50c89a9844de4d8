"""The workflow on trees shaped like public datasets: what a dry run plans, a run on a two-category
ShapeNet-shaped tree (per-category results), and `implicit3d fit` writing the workflow's own files."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import dataset_trees as datasets
import pandas as pd
import pytest

from implicit3d.summary import read_summary
from implicit3d.viewer import read_page

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
IMPLICIT3D = Path(sys.executable).with_name("implicit3d")
TINY = REPO / "tests" / "data" / "tiny.yaml"
pytestmark = pytest.mark.slow


def copy_workflow(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("Snakefile", "workflow", "config"):
        (shutil.copytree if (REPO / name).is_dir() else shutil.copy)(REPO / name, dest / name)
    return dest


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [str(SNAKEMAKE), "--cores", "2", "--configfile", str(TINY), *args]
    return subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=900)


def planned_objects(output: str) -> list[str]:
    return sorted(set(re.findall(r"output: results/normalized/(.+?)\.ply\.xz[ ,]", output)))


def test_a_dry_run_plans_exactly_each_datasets_objects(tmp_path):
    workdir = copy_workflow(tmp_path / "wf")
    for name in ("shapenet_v2", "modelnet", "objaverse", "thingi10k"):
        expected = datasets.BUILDERS[name](tmp_path / name)
        run = snakemake(workdir, "-n", "--config", f"meshes={tmp_path / name}")
        assert run.returncode == 0, run.stderr[-2000:]
        assert planned_objects(run.stdout) == expected, name
        assert f"(layout {name}" in run.stderr


@pytest.fixture(scope="module")
def shapenet_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("collection")
    workdir = copy_workflow(root / "wf")
    datasets.shapenet_v2(root / "ShapeNetCore.v2", per_category=2)
    run = snakemake(workdir, "--config", f"meshes={root / 'ShapeNetCore.v2'}", "models=[hashgrid]")
    assert run.returncode == 0, run.stderr[-3000:]
    return workdir


def test_a_shapenet_run_reports_per_category(shapenet_run):
    res = shapenet_run / "results"
    table = read_summary(res / "summary.csv")
    rows = table[table.object != "mean"]
    assert sorted(rows.object) == datasets.shapenet_v2(shapenet_run / "again", per_category=2)
    assert list(rows.category) == ["02691156", "02691156", "03001627", "03001627"]
    assert list(rows.category_name) == ["airplane", "airplane", "chair", "chair"]
    assert all(Path(p).name == "model_normalized.obj" for p in rows.path)
    # Nested ids keep their folders under results/.
    assert (res / "normalized" / "03001627").is_dir() and len(list((res / "models" / "hashgrid").rglob("*.pt"))) == 4
    means = {c: rows[rows.category == c].f1_near.mean() for c in ("02691156", "03001627")}
    metrics = json.loads((res / "metrics.json").read_text())["hashgrid"]
    assert metrics["objects"] == 4 and metrics["f1_near"] == pytest.approx(rows.f1_near.mean())
    assert {c: m["f1_near"] for c, m in metrics["categories"].items()} == pytest.approx(means)
    assert metrics["categories"]["03001627"]["name"] == "chair" and metrics["categories"]["03001627"]["objects"] == 2
    assert metrics["mean_of_categories"]["f1_near"] == pytest.approx(sum(means.values()) / 2)
    text = (res / "summary.md").read_text()
    assert "## Per category" in text and "| hashgrid | 03001627 | chair | 2 |" in text and "(mean of categories)" in text
    collection = pd.read_csv(res / "collection.csv", dtype=str, keep_default_na=False)
    assert list(collection.columns) == ["object", "category", "category_name", "split", "path"] and len(collection) == 4
    assert "Worst 3 objects of each category" in (res / "summary.html").read_text()


def test_the_viewer_groups_objects_by_category(shapenet_run):
    data, _ = read_page((shapenet_run / "results" / "viewer.html").read_text())
    assert sorted(set(data["categories"].values())) == ["02691156 (airplane)", "03001627 (chair)"]
    assert sorted(data["categories"]) == sorted(data["objects"])


def test_the_report_groups_figures_by_model_and_category(shapenet_run):
    report = shapenet_run / "results" / "report.html"
    meshes = next(Path(p).parents[3] for p in read_summary(shapenet_run / "results" / "summary.csv").path if p)
    run = snakemake(shapenet_run, "--config", f"meshes={meshes}", "models=[hashgrid]", "--report", str(report))
    assert run.returncode == 0, run.stderr[-2000:]
    text = report.read_text()
    assert "hashgrid / 02691156 (airplane)" in text and "hashgrid / 03001627 (chair)" in text


def test_figures_for_the_worst_objects_of_each_category(shapenet_run, tmp_path):
    """products.figures_for: 1 names each category's worst object by F1 near, and only their figures
    are targets; a chain run draws them in its workers (figures_in_worker), not in a script job each."""
    (tmp_path / "worst.yaml").write_text("products: {figures_for: 1}\n")
    summary = read_summary(shapenet_run / "results" / "summary.csv")
    meshes = next(Path(p).parents[3] for p in summary.path if p)
    rows = summary[summary.object != "mean"]
    expected = sorted(rows.loc[rows.groupby("category").f1_near.idxmin(), "object"])
    drawn = {o: sorted((shapenet_run / "results" / "figures" / "hashgrid").glob(f"*/{o}_*.png")) for o in rows.object}
    for path in (p for o in expected for p in drawn[o]):
        path.unlink()  # the worst objects' figures, to be drawn again
    run = snakemake(shapenet_run, "--configfile", str(TINY), str(tmp_path / "worst.yaml"), "--config", f"meshes={meshes}", "models=[hashgrid]")
    assert run.returncode == 0, run.stderr[-2000:]
    worst = pd.read_csv(shapenet_run / "results" / "figures" / "worst.csv", dtype=str)
    assert list(worst.model) == ["hashgrid", "hashgrid"] and sorted(worst.object) == expected
    assert all(len(drawn[o]) == 3 and all(p.is_file() for p in drawn[o]) for o in expected)
    assert run.stderr.count("rule figures_in_worker:") == len(expected) and "rule figures:" not in run.stderr


def test_fit_writes_the_files_the_workflow_would(shapenet_run, tmp_path):
    """`implicit3d fit` on one more object, into the run's results: the workflow then has nothing to
    redo for it but the collection steps, and its summary row holds fit's numbers."""
    mesh = tmp_path / "extra" / "bunny.ply"
    mesh.parent.mkdir()
    datasets.solid(2).export(mesh)
    fit = subprocess.run([str(IMPLICIT3D), "fit", str(mesh), "-o", "results", "--configfile", str(TINY), "--model", "hashgrid", "--reconstruct"],
                         cwd=shapenet_run, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert fit.returncode == 0, fit.stderr[-2000:]
    assert re.search(r"\| hashgrid \| 0\.\d{4} \| 0\.\d{4} \|", fit.stdout)
    record = json.loads(next((shapenet_run / "results" / "eval" / "hashgrid").glob("*/bunny.json")).read_text())
    run = snakemake(shapenet_run, "--config", f"meshes={mesh.parent}", "models=[hashgrid]")
    assert run.returncode == 0, run.stderr[-2000:]
    # The object's job only drew the figures fit does not make: every other stage was fresh.
    log = (shapenet_run / "results" / "logs" / "object" / "bunny.log").read_text()
    for stage in ("normalize", "sample", "train", "evaluate", "reconstruct"):
        assert re.search(rf"^{stage} +(hashgrid +)?fresh", log, re.M), log
    assert re.search(r"^figures +hashgrid +\d", log, re.M), log
    row = read_summary(shapenet_run / "results" / "summary.csv").set_index("object").loc["bunny"]
    assert row.f1_near == record["f1_near"] and row.model_bytes == record["model_bytes"]
