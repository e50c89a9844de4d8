"""The predict, mesh and evaluate commands, on a model trained in seconds with the stages."""

import json

import numpy as np
import pytest
import trimesh

from implicit3d import stages
from implicit3d.cli import main
from implicit3d.evaluation import predict_numpy
from implicit3d.io import read_json, read_points
from implicit3d.mesh import Transform
from implicit3d.metrics import occupancy_metrics
from implicit3d.training import load_model

SAMPLING = {
    "method": "exact", "volume": "sphere", "seed": 0,
    "train": {"near_count": 3000, "near_std": [0.003, 0.01], "volume_count": 1500},
    "val": {"near_count": 300, "near_std": 0.01, "volume_count": 300},
    "test": {"near_count": 1500, "near_std": 0.01, "volume_count": 1500},
}  # fmt: skip
MODEL = {
    "arch": "hashgrid",
    "params": {"levels": 4, "features": 2, "log2_table": 12, "base_resolution": 8, "max_resolution": 32, "hidden": 16, "layers": 1},
    "training": {"steps": 60, "batch_size": 1024, "lr": 0.01, "val_every": 30, "weight_dtype": "int8"},  # the default storage
}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """normalize -> sample -> train -> evaluate on an off-center box, as the pipeline does."""
    d = tmp_path_factory.mktemp("obj")
    box = trimesh.creation.box(extents=(2.0, 1.0, 0.6))
    box.apply_translation((5.0, -3.0, 1.0))
    box.export(d / "box.obj")
    stages.normalize(str(d / "box.obj"), str(d / "box.ply.xz"), str(d / "box.json"))
    stages.sample(str(d / "box.ply.xz"), str(d / "box.parquet"), SAMPLING)
    stages.train(str(d / "box.parquet"), str(d / "box.ply.xz"), str(d / "m.pt"), str(d / "m.info.json"), MODEL, progress=False, device="cpu")
    record = stages.evaluate(str(d / "m.pt"), str(d / "m.info.json"), str(d / "box.parquet"), str(d / "eval.json"), "box", "hashgrid")
    return d, record


def test_every_command_has_help(capsys):
    for command in ("predict", "mesh", "evaluate", "points"):
        with pytest.raises(SystemExit) as exc:
            main([command, "--help"])
        assert exc.value.code == 0
        assert f"usage: implicit3d {command}" in capsys.readouterr().out


def test_predict_on_the_test_points_reproduces_the_evaluated_f1_exactly(trained, tmp_path):
    d, record = trained
    assert main(["predict", str(d / "m.pt"), str(d / "box.parquet"), "--split", "test", "-o", str(tmp_path / "p.npy")]) == 0
    pred = np.load(tmp_path / "p.npy")
    frame, _ = read_points(d / "box.parquet")
    test = frame[frame["split"] == "test"]
    assert len(pred) == len(test)
    for kind in ("near", "volume"):
        rows = (test["kind"] == kind).to_numpy()
        assert occupancy_metrics(test["sdf"].to_numpy()[rows], pred[rows])["f1"] == record[f"f1_{kind}"]
    assert record == read_json(d / "eval.json") | {}  # the file holds what the stage returned


def test_predict_in_the_original_frame_scales_distances(trained, tmp_path):
    d, _ = trained
    transform = Transform.from_dict(read_json(d / "box.json"))
    normalized = np.random.default_rng(1).uniform(-0.9, 0.9, size=(500, 3))
    np.save(tmp_path / "n.npy", normalized)
    np.save(tmp_path / "o.npy", transform.to_original(normalized))
    assert main(["predict", str(d / "m.pt"), str(tmp_path / "n.npy"), "-o", str(tmp_path / "pn.npy")]) == 0
    assert main(["predict", str(d / "m.pt"), str(tmp_path / "o.npy"), "-o", str(tmp_path / "po.npy"),
                 "--frame", "original", "--transform", str(d / "box.json")]) == 0  # fmt: skip
    in_normalized, in_original = np.load(tmp_path / "pn.npy"), np.load(tmp_path / "po.npy")
    model, _ = load_model(d / "m.pt")
    assert np.array_equal(in_normalized, predict_numpy(model, normalized))
    assert transform.scale == pytest.approx(np.linalg.norm([1.0, 0.5, 0.3]))
    assert in_original == pytest.approx(in_normalized * transform.scale, rel=1e-4, abs=1e-5)


def test_predict_errors_are_one_line_and_name_the_file(trained, tmp_path, capsys):
    """Exit 2 for a usage error, 1 for a file that cannot be used."""
    d, _ = trained
    np.save(tmp_path / "p.npy", np.zeros((3, 3)))
    cases = [
        (["predict", str(d / "m.pt"), str(tmp_path / "p.npy"), "-o", "x.npy", "--frame", "original"], "needs --transform", 2),
        (["predict", str(tmp_path / "nope.pt"), str(tmp_path / "p.npy"), "-o", "x.npy"], "nope.pt: model file not found", 1),
        (["predict", str(d / "box.json"), str(tmp_path / "p.npy"), "-o", "x.npy"], "box.json: not a model checkpoint", 1),
        (["predict", str(d / "m.pt"), str(tmp_path / "p.npy"), "-o", "x.npy", "--split", "test"], "p.npy: --split applies", 2),
        (["predict", str(d / "m.pt"), str(d / "m.pt"), "-o", "x.npy", "--frame", "original", "--transform", str(d / "m.pt")], "not a transform JSON", 1),
    ]  # fmt: skip
    for argv, message, code in cases:
        assert main(argv) == code, message
        err = capsys.readouterr().err.strip()
        assert message in err and "\n" not in err, err


def test_mesh_in_both_frames(trained, tmp_path):
    d, record = trained
    out_n, out_o = tmp_path / "n.ply", tmp_path / "o.obj"  # the suffix picks the format
    assert main(["mesh", str(d / "m.pt"), "-o", str(out_n), "--resolution", "32"]) == 0
    assert main(["mesh", str(d / "m.pt"), "-o", str(out_o), "--resolution", "32",
                 "--frame", "original", "--transform", str(d / "box.json")]) == 0  # fmt: skip
    normalized = trimesh.load(out_n, process=False)
    original = trimesh.load(out_o, process=False)
    assert out_o.read_text().lstrip()[:1] in ("#", "v")  # OBJ text, not PLY
    transform = Transform.from_dict(read_json(d / "box.json"))
    assert len(normalized.faces) > 100
    assert original.vertices == pytest.approx(transform.to_original(normalized.vertices), abs=1e-5)
    # A box of 2 x 1 x 0.6 around (5, -3, 1): the reconstruction lands there.
    assert original.bounds.mean(axis=0) == pytest.approx([5.0, -3.0, 1.0], abs=0.15)


def test_evaluate_on_the_samples_matches_the_stage(trained, capsys):
    d, record = trained
    assert main(["evaluate", str(d / "m.pt"), str(d / "box.parquet"), "--json", "--mesh", str(d / "box.ply.xz"),
                 "--resolution", "32", "--surface-points", "2000"]) == 0  # fmt: skip
    out = json.loads(capsys.readouterr().out)
    for key in ("f1_near", "f1_volume", "iou_near", "precision_volume"):
        assert out[key] == record[key]
    assert 0 < out["chamfer"] < 0.1 and 0.5 < out["normal_consistency"] <= 1.0


def test_evaluate_on_the_mesh_prints_a_table(trained, capsys):
    d, _ = trained
    assert main(["evaluate", str(d / "m.pt"), str(d / "box.obj"), "--count", "1000", "--resolution", "0"]) == 0
    lines = dict(line.split() for line in capsys.readouterr().out.strip().splitlines())
    assert 0.0 <= float(lines["f1_near"]) <= 1.0 and lines["count_volume"] == "1000"
    assert "chamfer" not in lines  # --resolution 0 skips the surface metrics


def test_points_writes_the_samples_as_plain_arrays_csv_or_float_parquet(trained, tmp_path, capsys):
    import pandas as pd
    import pyarrow.parquet as pq

    d, _ = trained
    frame, _ = read_points(d / "box.parquet")
    assert "zorder" in pq.read_schema(d / "box.parquet").names  # the samples file keeps lattice codes
    for suffix in (".npz", ".csv", ".parquet"):
        assert main(["points", str(d / "box.parquet"), "-o", str(tmp_path / f"p{suffix}")]) == 0
        assert f"{len(frame)} points" in capsys.readouterr().out
    arrays = np.load(tmp_path / "p.npz")  # no pickles needed
    np.testing.assert_array_equal(arrays["points"], frame[["x", "y", "z"]].to_numpy())
    np.testing.assert_array_equal(arrays["sdf"], frame["sdf"].to_numpy())
    assert list(arrays["kind"]) == list(frame["kind"].astype(str)) and arrays["std"].dtype == np.float32
    table = pd.read_csv(tmp_path / "p.csv")
    np.testing.assert_array_equal(table[["x", "y", "z", "sdf"]].to_numpy(np.float32), frame[["x", "y", "z", "sdf"]].to_numpy())
    plain = pd.read_parquet(tmp_path / "p.parquet")  # any Parquet reader: float32 x, y, z, sdf
    assert plain["x"].dtype == np.float32 and "zorder" not in plain
    pd.testing.assert_frame_equal(read_points(tmp_path / "p.parquet")[0], frame)


def test_points_refuses_an_unknown_format_and_a_file_that_is_no_samples(trained, tmp_path, capsys):
    d, _ = trained
    assert main(["points", str(d / "box.parquet"), "-o", str(tmp_path / "p.txt")]) == 2
    assert "unknown output format '.txt' (use .npz, .csv or .parquet)" in capsys.readouterr().err
    (tmp_path / "bad.parquet").write_text("not parquet")
    assert main(["points", str(tmp_path / "bad.parquet"), "-o", str(tmp_path / "p.npz")]) == 1
    assert "bad.parquet: cannot read samples" in capsys.readouterr().err
    assert not (tmp_path / "p.txt").exists() and not (tmp_path / "p.npz").exists()
