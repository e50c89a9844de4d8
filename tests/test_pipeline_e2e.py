"""Runs the real Snakemake workflow on a temporary copy of the repo."""

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from implicit3d.summary import KEY_COLUMNS, read_summary

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
    """The sample's run with one job per stage (object_jobs: steps); the sharded run below makes each
    object in one job, and must give the same summary."""
    workdir = tmp_path_factory.mktemp("wf")
    meshes = copy_workflow(workdir)
    run = snakemake(workdir, "--config", f"meshes={meshes}", "object_jobs=steps")
    assert run.returncode == 0, run.stderr[-3000:]
    return workdir


def test_summary_has_every_object_and_model(finished_run):
    table = pd.read_csv(finished_run / "results" / "summary.csv", dtype={"object": str})
    assert list(table.columns[: len(KEY_COLUMNS)]) == KEY_COLUMNS
    rows = table[table.object != "mean"]
    assert sorted(zip(rows.model, rows.object, strict=True)) == [
        ("hashgrid", "joint"), ("hashgrid", "rotor"), ("siren", "joint"), ("siren", "rotor")
    ]
    assert ((rows.f1_near >= 0) & (rows.f1_near <= 1) & (rows.f1_volume >= 0) & (rows.f1_volume <= 1)).all()
    assert (rows.model_bytes > 0).all() and (rows.train_seconds > 0).all() and (rows.infer_points_per_s > 0).all()
    assert (rows.gt_method == "exact").all() and (rows.gt_sign == "filled").all()  # the defaults, recorded
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
    run = snakemake(finished_run, "--config", f"meshes={finished_run / 'meshes'}", "object_jobs=steps", "-n")
    assert run.returncode == 0
    assert "Nothing to be done" in run.stdout + run.stderr


def test_sharded_run_gives_the_same_summary(finished_run, tmp_path):
    """One shard job per object (config `shards`): the same files and summary as the unsharded run."""
    meshes = copy_workflow(tmp_path)
    (tmp_path / "shards.yaml").write_text("shards: {size: 1, threads: 1, mem_mb: 2000, runtime: 30}\n")
    run = snakemake(tmp_path, "--configfile", str(REPO / "tests" / "data" / "tiny.yaml"), "shards.yaml", "--config", f"meshes={meshes}")
    assert run.returncode == 0, run.stderr[-3000:]
    assert sorted(p.name for p in (tmp_path / "results" / "shards").iterdir()) == ["0.json", "1.json"]
    varying = ["train_seconds", "step_ms", "infer_points_per_s", "path"]  # timings, and where each copy of the meshes lies
    sharded = read_summary(tmp_path / "results" / "summary.csv").drop(columns=varying)
    pd.testing.assert_frame_equal(sharded, read_summary(finished_run / "results" / "summary.csv").drop(columns=varying), check_exact=True)
    for name in ("joint", "rotor"):
        assert list((tmp_path / "results" / "figures").rglob(f"{name}_trace.png")), name
    assert (tmp_path / "results" / "viewer.html").exists()


def test_bad_config_fails_before_any_job_with_the_key_name(tmp_path):
    meshes = copy_workflow(tmp_path)
    run = snakemake(tmp_path, "--config", f"meshes={meshes}", "device=gpu")
    assert run.returncode != 0
    assert "config key 'device'" in run.stderr + run.stdout
    assert not (tmp_path / "results").exists()


# --- reconstructions, figures, report and the CLI on the finished run ---


def _object_rows(run_dir):
    table = pd.read_csv(run_dir / "results" / "summary.csv", dtype={"object": str})
    return table, table[table.object != "mean"]


def test_reconstructions_and_figures_for_every_object(finished_run):
    from implicit3d.meshfile import read_mesh

    res = finished_run / "results"
    table, rows = _object_rows(finished_run)
    for r in rows.itertuples():
        (kept,) = (res / "meshes" / r.model).glob(f"*/{r.object}.ply.xz")
        if pd.isna(r.recon_note):
            assert len(read_mesh(kept).faces) > 0
        for kind in ("slices", "render", "trace"):
            (png,) = (res / "figures" / r.model).glob(f"*/{r.object}_{kind}.png")
            assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    hashgrid = rows[rows.model == "hashgrid"]
    # 150 steps of the hash grid already put the surface within a few hundredths of the truth.
    assert (hashgrid.chamfer < 0.05).all() and (hashgrid.normal_consistency > 0.7).all()
    assert (res / "figures" / "f1_near_vs_volume.png").exists()
    assert (res / "figures" / "size_vs_f1.png").exists()  # two architectures in tiny.yaml
    assert (res / "summary.html").read_text().count("<tr") == len(table) + 1


def test_cli_predict_on_the_test_points_reproduces_the_summary_f1_exactly(finished_run, tmp_path):
    import json

    import numpy as np

    from implicit3d.io import read_points
    from implicit3d.metrics import occupancy_metrics

    res = finished_run / "results"
    _, rows = _object_rows(finished_run)
    for r in rows.itertuples():
        (model,) = (res / "models" / r.model).glob(f"*/{r.object}.pt")
        (samples,) = (res / "samples").glob(f"*/{r.object}.parquet")
        (evaluation,) = (res / "eval" / r.model).glob(f"*/{r.object}.json")
        out = tmp_path / f"{r.model}_{r.object}.npy"
        cli = subprocess.run([str(SNAKEMAKE.with_name("implicit3d")), "predict", str(model), str(samples),
                              "--split", "test", "-o", str(out)], capture_output=True, text=True)  # fmt: skip
        assert cli.returncode == 0, cli.stderr
        frame, _ = read_points(samples)
        test = frame[frame["split"] == "test"]
        pred, record = np.load(out), json.loads(evaluation.read_text())
        for kind in ("near", "volume"):
            part = (test["kind"] == kind).to_numpy()
            f1 = occupancy_metrics(test["sdf"].to_numpy()[part], pred[part])["f1"]
            assert f1 == record[f"f1_{kind}"] == getattr(r, f"f1_{kind}"), (r.model, r.object, kind)


def _build_report(run_dir):
    report = run_dir / "results" / "report.html"
    if not report.exists():
        run = snakemake(run_dir, "--config", f"meshes={run_dir / 'meshes'}", "object_jobs=steps", "--report", str(report))
        assert run.returncode == 0, run.stderr[-3000:]
    return report


def test_report_is_one_html_file_with_every_figure(finished_run):
    text = _build_report(finished_run).read_text()
    pngs = list((finished_run / "results" / "figures").rglob("*.png"))
    assert len(pngs) == 2 * 2 * 3 + 2  # models x objects x (slices, render, trace) + collection figures
    for png in pngs:  # embedded as data URIs, not linked: the HTML file is all one needs
        assert f"data:image/png;charset=utf8;filename={png.name};base64," in text, png.name
    assert '"Objects"' in text and '"Summary"' in text
    assert "sign errors" in text  # a figure caption made it in


def test_report_opens_in_chromium_and_shows_figures(finished_run, tmp_path):
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        pytest.skip("chromium not installed (apt-get install -y chromium)")
    report = _build_report(finished_run)
    shot = subprocess.run([sys.executable, str(REPO / "scripts" / "report_screenshot.py"), str(report), "-o", str(tmp_path)],
                          capture_output=True, text=True, timeout=180)  # fmt: skip
    assert shot.returncode == 0, shot.stdout + shot.stderr
    assert shot.stdout.count("shows image") == 2  # Objects and Summary
    assert (tmp_path / "report_objects.png").stat().st_size > 50_000  # a figure, not a blank page
