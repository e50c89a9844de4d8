"""Objects whose names pandas reads as missing by default (`NA.obj`, `None.ply`, `nan.stl`) keep
their names in every table that is read back."""

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from implicit3d.io import write_json
from implicit3d.stages.report import collection_figures, summary_page
from implicit3d.summary import load_records, read_summary, write_summary
from implicit3d.tracking import write_tracking
from implicit3d.workflow import discover_meshes

REPO = Path(__file__).resolve().parents[1]
NAMES = ["NA", "None", "nan", "null", "N/A"]


def records(folder: Path) -> pd.DataFrame:
    """Evaluation records as the evaluate stage writes them, loaded as the summary stage does."""
    rows = [
        {"object": name, "model": "hashgrid", "f1_near": 0.9 + i / 100, "f1_volume": 0.8, "model_bytes": 1000,
         "train_seconds": 1.0, "infer_points_per_s": 10.0, "chamfer": float("nan") if i == 0 else 0.01}
        for i, name in enumerate(NAMES)
    ]  # fmt: skip
    for i, row in enumerate(rows):
        write_json(folder / f"{i}.json", row)
    return load_records([folder / f"{i}.json" for i in range(len(rows))])


def test_summary_and_tracking_keep_na_like_names(tmp_path):
    out = tmp_path / "summary"
    write_summary(records(tmp_path), out.with_suffix(".csv"), out.with_suffix(".parquet"), out.with_suffix(".md"))
    table = read_summary(out.with_suffix(".csv"))
    assert sorted(table["object"][table["object"] != "mean"]) == sorted(NAMES)
    assert table["chamfer"].isna().sum() == 1 and table["f1_near"].notna().all()  # empty cells stay missing

    write_tracking(out.with_suffix(".csv"), tmp_path / "metrics.json", tmp_path / "f1.csv", tmp_path / "timings.json")
    with open(tmp_path / "f1.csv", newline="") as f:
        plot = list(csv.DictReader(f))
    assert sorted(r["object"] for r in plot) == sorted(NAMES)
    assert sorted(r["label"] for r in plot) == sorted(f"{n} / hashgrid" for n in NAMES)
    assert json.loads((tmp_path / "metrics.json").read_text())["hashgrid"]["objects"] == len(NAMES)

    summary_page(str(out.with_suffix(".csv")), str(tmp_path / "summary.html"))
    html = (tmp_path / "summary.html").read_text()
    assert all(f">{name}<" in html for name in ("NA", "None", "nan", "null"))
    collection_figures(str(out.with_suffix(".csv")), str(tmp_path / "f1.png"))
    assert (tmp_path / "f1.png").stat().st_size > 0


def test_discovery_keeps_na_like_names(tmp_path):
    for name in ("NA.obj", "None.ply", "nan.stl"):
        (tmp_path / name).write_text("")
    assert sorted(discover_meshes(str(tmp_path))) == ["NA", "None", "nan"]


@pytest.mark.slow
def test_workflow_on_objects_named_na(tmp_path):
    """The real workflow (tiny settings, one model) on meshes named NA.ply and nan.ply."""
    for name in ("Snakefile", "workflow", "config"):
        src = REPO / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / name)
    meshes = tmp_path / "meshes"
    meshes.mkdir()
    shutil.copy(REPO / "data" / "sample_meshes" / "joint.ply", meshes / "NA.ply")
    shutil.copy(REPO / "data" / "sample_meshes" / "rotor.ply", meshes / "nan.ply")
    cmd = [str(Path(sys.executable).with_name("snakemake")), "--cores", "2", "--configfile", str(REPO / "tests" / "data" / "tiny.yaml"),
           "--config", f"meshes={meshes}", "models=[hashgrid]", "--", "results/metrics.json", "results/summary.html"]  # fmt: skip
    run = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    results = tmp_path / "results"
    with open(results / "plots" / "f1.csv", newline="") as f:
        assert sorted(r["label"] for r in csv.DictReader(f)) == ["NA / hashgrid", "nan / hashgrid"]
    assert sorted(read_summary(results / "summary.csv")["object"]) == ["NA", "mean", "nan"]
    assert json.loads((results / "metrics.json").read_text())["hashgrid"]["objects"] == 2
