"""Error records left by stage_log and the failed.csv report built from them."""

import json
import os
import time

import pandas as pd
import pytest

from implicit3d.errors import MeshError
from implicit3d.failures import (
    FAILED_COLUMNS,
    NOT_RUN,
    build_chains,
    collect_failures,
    format_failures,
    write_failures,
    write_partial_report,
)
from implicit3d.runlog import error_record_path, stage_log
from implicit3d.summary import load_records

RULES = [
    ("normalize", ["results/normalized/{object}.ply", "results/normalized/{object}.json"], ["results/logs/normalize/{object}.log"]),
    ("sample", ["results/samples/{tag}/{object}.parquet"], ["results/logs/sample/{tag}/{object}.log"]),
    ("train", ["results/models/{model}/{tag}/{object}.pt"], ["results/logs/train/{model}/{tag}/{object}.log"]),
    ("evaluate", ["results/eval/{model}/{tag}/{object}.json"], ["results/logs/evaluate/{model}/{tag}/{object}.log"]),
    ("figure", ["results/figures/{model}/{tag}/{object}.png"], ["results/logs/figure/{model}/{tag}/{object}.log"]),
]
TAGS = {"hashgrid": "h1", "siren": "s1"}


def touch(path, text="x", mtime=None):
    path = os.fspath(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    if mtime is not None:
        os.utime(path, (mtime, mtime))


def finish(obj, model, upto):
    """Create the outputs of the first `upto` steps of one chain."""
    (chain,) = build_chains([obj], [model], RULES, "s0", TAGS)
    for step in chain.steps[:upto]:
        for path in step.outputs:
            touch(path)


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def chains(objects=("a", "b"), models=("hashgrid", "siren")):
    return build_chains(objects, models, RULES, "s0", TAGS)


def test_chains_format_shared_and_per_model_steps():
    chain = chains(("cow",), ("siren",))[0]
    steps = {s.stage: s for s in chain.steps}
    assert steps["normalize"].outputs == ("results/normalized/cow.ply", "results/normalized/cow.json")
    assert steps["sample"].outputs == ("results/samples/s0/cow.parquet",) and steps["sample"].model == ""
    assert steps["train"].log == "results/logs/train/siren/s1/cow.log" and steps["train"].model == "siren"


def test_rule_with_other_wildcards_is_skipped():
    chain = build_chains(["a"], ["siren"], RULES + [("odd", ["x/{object}_{kind}.png"], [])], "s0", TAGS)[0]
    assert "odd" not in [s.stage for s in chain.steps]


def test_stage_log_leaves_one_line_record_and_exits_1(workdir, capsys):
    log = workdir / "logs" / "normalize" / "cow.log"
    with pytest.raises(SystemExit) as info:
        with stage_log(str(log), "normalize"):
            raise MeshError("meshes/cow.obj: empty file")
    assert info.value.code == 1
    assert error_record_path(log).read_text() == "meshes/cow.obj: empty file\n"
    assert "implicit3d normalize error: meshes/cow.obj: empty file" in capsys.readouterr().err
    assert "empty file" in log.read_text()
    # A later successful run of the same job removes the stale record.
    with stage_log(str(log), "normalize"):
        pass
    assert not error_record_path(log).exists()


def test_stage_log_records_unexpected_errors_and_keeps_traceback(workdir):
    log = workdir / "logs" / "train" / "cow.log"
    with pytest.raises(ZeroDivisionError):
        with stage_log(str(log), "train"):
            _ = 1 / 0
    record = error_record_path(log).read_text()
    assert record.startswith("ZeroDivisionError: division by zero (traceback in ") and record.count("\n") == 1
    assert "Traceback" in log.read_text()


def test_finished_chains_have_no_failure(workdir):
    for obj in "ab":
        for model in TAGS:
            finish(obj, model, len(RULES))
    assert collect_failures(chains(), since=time.time() - 60) == []


def test_shared_step_failure_is_one_row_per_object(workdir):
    start = time.time() - 1
    finish("a", "hashgrid", 5)
    finish("a", "siren", 5)
    touch("results/logs/normalize/b.log")
    touch("results/logs/normalize/b.err", "meshes/b.obj: empty file\n")
    rows = collect_failures(chains(), since=start)
    assert rows == [{"object": "b", "stage": "normalize", "error": "meshes/b.obj: empty file", "model": "", "log": "results/logs/normalize/b.log"}]


def test_per_model_failure_names_the_model(workdir):
    start = time.time() - 1
    finish("a", "hashgrid", 5)
    finish("a", "siren", 2)  # normalize and sample done, siren's train failed
    touch("results/logs/train/siren/s1/a.log")
    touch("results/logs/train/siren/s1/a.err", "training diverged\n")
    rows = collect_failures(chains(("a",)), since=start)
    assert [(r["stage"], r["model"], r["error"]) for r in rows] == [("train", "siren", "training diverged")]


def test_log_without_record_means_killed(workdir):
    start = time.time() - 1
    finish("a", "hashgrid", 2)
    touch("results/logs/train/hashgrid/h1/a.log")
    (row,) = collect_failures(chains(("a",), ("hashgrid",)), since=start)
    assert row["stage"] == "train" and row["error"].startswith("no error recorded: the job was killed")


def test_old_evidence_means_not_run_this_time(workdir):
    old = time.time() - 3600
    touch("results/logs/normalize/a.log", mtime=old)
    touch("results/logs/normalize/a.err", "meshes/a.obj: empty file\n", mtime=old)
    touch("results/logs/normalize/b.log", mtime=old)
    rows = {r["object"]: r for r in collect_failures(chains(), since=old + 60)}
    assert rows["a"]["error"] == f"{NOT_RUN}; earlier error: meshes/a.obj: empty file"
    assert rows["b"]["error"] == NOT_RUN and rows["b"]["stage"] == "normalize"


def test_missing_products_nobody_asked_for_are_not_failures(workdir):
    start = time.time() - 1
    finish("a", "hashgrid", 4)  # everything but the figure
    required = {"results/eval/hashgrid/h1/a.json"}
    assert collect_failures(chains(("a",), ("hashgrid",)), since=start, required=required) == []
    touch("results/logs/figure/hashgrid/h1/a.log")  # ... unless it ran and failed in this run
    touch("results/logs/figure/hashgrid/h1/a.err", "TypeError: boom\n")
    (row,) = collect_failures(chains(("a",), ("hashgrid",)), since=start, required=required)
    assert row["stage"] == "figure" and row["error"] == "TypeError: boom"


def test_partial_report_writes_summary_failed_csv_and_a_newer_marker(workdir):
    eval_path = workdir / "results/eval/hashgrid/h1/a.json"
    eval_path.parent.mkdir(parents=True)
    eval_path.write_text(json.dumps({"object": "a", "model": "hashgrid", "f1_near": 0.9, "f1_volume": 0.95}))
    rows = [{"object": "b", "stage": "normalize", "error": "meshes/b.obj: empty file", "model": "", "log": "x.log"}]
    out = workdir / "results"
    write_partial_report(rows, load_records([eval_path]), (out / "summary.csv", out / "summary.parquet", out / "summary.md"),
                         out / "failed.csv", out / "status" / "last_failure.json")
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.object) == ["a", "mean"]
    failed = pd.read_csv(out / "failed.csv", keep_default_na=False)
    assert list(failed.columns) == FAILED_COLUMNS and failed.to_dict("records") == rows
    marker = out / "status" / "last_failure.json"
    assert json.loads(marker.read_text())["failed"] == rows
    assert marker.stat().st_mtime_ns >= (out / "summary.csv").stat().st_mtime_ns


def test_empty_failures_file_has_the_header(tmp_path):
    write_failures(tmp_path / "failed.csv", [])
    assert (tmp_path / "failed.csv").read_text().strip() == ",".join(FAILED_COLUMNS)


def test_terminal_message_counts_failed_and_not_run():
    rows = [
        {"object": "b", "stage": "normalize", "error": "meshes/b.obj: empty file", "model": "", "log": ""},
        {"object": "c", "stage": "train", "error": "diverged", "model": "siren", "log": ""},
        {"object": "d", "stage": "normalize", "error": NOT_RUN, "model": "", "log": ""},
    ]
    text = format_failures(rows, 5, "results/failed.csv", "results/summary.md")
    lines = text.splitlines()
    assert lines[0].startswith("implicit3d: 2 of 5 objects failed and 1 did not run (listed in results/failed.csv)")
    assert lines[1] == "  b [normalize]: meshes/b.obj: empty file" and lines[2] == "  c [train/siren]: diverged"
