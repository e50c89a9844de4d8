"""`implicit3d export`: ONNX (checked with onnxruntime) and .npz for the NumPy-only evaluator
`implicit3d.portable`, both against the torch model on a set of test points; the compact hash grid
(hashgrid_compact: learned steps, ANS) as read back from its stored file."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from implicit3d.cli import main
from implicit3d.export import export_npz, export_onnx, full_hparams
from implicit3d.metrics import occupancy_metrics
from implicit3d.models import build_model
from implicit3d.portable import load
from implicit3d.training import TrainConfig, load_model, save_model, train

TOL = 1e-5
RADIUS = 0.5
# Small models; the hash grid has dense levels (resolution 4..9 fit 2^10 rows) and hashed ones.
HPARAMS = {
    "hashgrid": {"levels": 6, "features": 2, "log2_table": 10, "base_resolution": 4, "max_resolution": 48, "hidden": 16},
    "siren": {"hidden": 32, "layers": 3, "w0": 30.0},
    "mlp": {"hidden": 32, "layers": 4, "skip": 2, "softplus_beta": 20.0},
    "fourier": {"hidden": 32, "layers": 2, "features": 16},
    "grid": {"resolution": 12},
}
COMPACT = "hashgrid_compact"  # a hash grid stored as hashgrid_compact stores it
CASES = {**{name: (name, hparams) for name, hparams in HPARAMS.items()}, COMPACT: ("hashgrid", HPARAMS["hashgrid"])}


def _test_points(count: int = 4000, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Near-surface and volume points of a sphere (slightly beyond the cube too) and their true SDF."""
    rng = np.random.default_rng(seed)
    d = rng.normal(size=(count, 3))
    near = d / np.linalg.norm(d, axis=1, keepdims=True) * (RADIUS + rng.normal(0, 0.01, (count, 1)))
    volume = rng.uniform(-1.05, 1.05, (count, 3))
    points = np.concatenate([near, volume]).astype(np.float32)
    return points, np.linalg.norm(points, axis=1) - RADIUS


def _trained(arch: str) -> torch.nn.Module:
    """A couple of hundred Adam steps towards the sphere, then (hash grid) random table values on top."""
    torch.manual_seed(0)
    model = build_model(arch, **HPARAMS[arch])
    opt = torch.optim.Adam(model.parameters(), 1e-4 if arch == "siren" else 1e-2)
    gen = torch.Generator().manual_seed(0)
    for _ in range(200):
        x = torch.rand(1024, 3, generator=gen) * 2 - 1
        loss = ((model(x) - (x.norm(dim=1) - RADIUS)) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    if arch == "hashgrid":
        with torch.no_grad():
            model.table.add_(torch.empty_like(model.table).uniform_(-0.05, 0.05, generator=gen))
    return model.eval()


def _compact(path) -> None:
    """The hash grid trained as hashgrid_compact trains (learned steps, a rate term; few steps on the
    sphere), saved in its format: integer codes with learned steps, ANS-coded."""
    points, truth = _test_points(2000, seed=2)
    cfg = TrainConfig(steps=150, batch_size=1024, val_every=50, weight_dtype="learned_step", weight_coding="ans", rate_weight=3e-4)
    torch.manual_seed(0)
    model = build_model("hashgrid", **HPARAMS["hashgrid"])
    train(model, points, truth, points[:500], truth[:500], cfg, torch.device("cpu"), progress=False)
    save_model(path, model, "hashgrid", HPARAMS["hashgrid"], cfg.weight_dtype, cfg.weight_coding)


@pytest.fixture(scope="module")
def compact_file(tmp_path_factory):
    torch.set_num_threads(1)  # module fixtures run before conftest's autouse one
    path = tmp_path_factory.mktemp("compact") / "model.pt"
    _compact(path)
    return path


@pytest.fixture(scope="module")
def models(compact_file):
    torch.set_num_threads(1)
    return {**{arch: _trained(arch) for arch in HPARAMS}, COMPACT: load_model(compact_file)[0]}


def _torch_sdf(model, points):
    with torch.no_grad():
        return model(torch.from_numpy(points)).numpy()


def test_hash_grid_export_path_has_the_training_path_values(models):
    model = models["hashgrid"]
    assert 0 < model.n_dense < model.levels
    x = torch.from_numpy(_test_points(1000)[0])
    narrow, w = model.indices(x)
    wide, w_wide = model.indices(x, wide=True)
    assert narrow.dtype == torch.int32 and wide.dtype == torch.int64
    assert torch.equal(narrow.long(), wide) and torch.equal(w, w_wide)
    with torch.no_grad():
        assert (model(x, portable=True) - model(x)).abs().max() <= 1e-6


@pytest.mark.parametrize("name", list(CASES))
def test_onnx_matches_torch(models, name, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    model, (points, _) = models[name], _test_points()
    export_onnx(model, tmp_path / "m.onnx")
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), options, providers=["CPUExecutionProvider"])
    got = session.run(None, {"points": points})[0]  # a batch other than the export's: the axis is dynamic
    assert got.shape == (len(points),) and got.dtype == np.float32
    assert np.abs(got - _torch_sdf(model, points)).max() <= TOL


@pytest.mark.parametrize("name", list(CASES))
def test_npz_matches_torch_with_the_same_f1(models, name, tmp_path):
    (arch, hparams), model, (points, truth) = CASES[name], models[name], _test_points()
    export_npz(model, {"arch": arch, "hparams": hparams, "weight_dtype": "float32"}, tmp_path / "m.npz")
    sdf = load(tmp_path / "m.npz")
    got, want = sdf(points), _torch_sdf(model, points)
    assert got.shape == want.shape and got.dtype == np.float32
    assert np.abs(got - want).max() <= TOL
    f1 = occupancy_metrics(truth, want)["f1"]
    assert 0.3 < f1 < 1  # a model with an inside, not a constant
    assert occupancy_metrics(truth, got)["f1"] == f1
    assert np.abs(sdf(points, chunk=999) - got).max() <= 1e-6  # chunks change only BLAS's rounding
    with np.load(tmp_path / "m.npz") as data:
        assert all(data[k].dtype == np.float32 for k in data.files if data[k].dtype.kind == "f")
    assert sdf.hparams == full_hparams(arch, hparams)


def test_portable_evaluates_without_torch(models, tmp_path):
    export_npz(models["hashgrid"], {"arch": "hashgrid", "hparams": HPARAMS["hashgrid"]}, tmp_path / "m.npz")
    points, _ = _test_points(500)
    np.save(tmp_path / "points.npy", points)
    np.save(tmp_path / "want.npy", _torch_sdf(models["hashgrid"], points))
    script = textwrap.dedent(f"""
        import sys
        import numpy as np
        from implicit3d.portable import load
        sdf = load({str(tmp_path / "m.npz")!r})(np.load({str(tmp_path / "points.npy")!r}))
        assert np.abs(sdf - np.load({str(tmp_path / "want.npy")!r})).max() <= {TOL}
        print("torch" in sys.modules)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


@pytest.mark.parametrize("name", ["hashgrid", COMPACT])
def test_cli_exports_a_saved_model(models, compact_file, tmp_path, capsys, name):
    pt = compact_file if name == COMPACT else tmp_path / "model.pt"
    if name != COMPACT:
        save_model(pt, models["hashgrid"], "hashgrid", HPARAMS["hashgrid"], "int8")
    stored, info = load_model(pt)  # the rounded weights that the export holds
    assert info["weight_dtype"] == ("learned_step" if name == COMPACT else "int8")
    points, _ = _test_points(1000)
    assert main(["export", str(pt), "-o", str(tmp_path / "out" / "m.npz")]) == 0
    assert "max |numpy - torch|" in capsys.readouterr().out
    assert np.abs(load(tmp_path / "out" / "m.npz")(points) - _torch_sdf(stored, points)).max() <= TOL
    assert main(["export", str(pt), "-o", str(tmp_path / "m.onnx")]) == 0
    assert (tmp_path / "m.onnx").stat().st_size > 0


@pytest.mark.parametrize(
    ("model", "output", "message", "code"),
    [
        ("missing.pt", "m.npz", "missing.pt: model file not found", 1),
        ("model.pt", "m.txt", "m.txt: unknown export format '.txt' (use .onnx or .npz)", 2),
        ("model.pt", "m", "unknown export format '(no extension)'", 2),
        ("junk.pt", "m.onnx", "junk.pt: not a model checkpoint", 1),
    ],
)
def test_cli_errors_are_one_line_exit_2_for_usage_and_1_for_bad_input(models, tmp_path, capsys, model, output, message, code):
    save_model(tmp_path / "model.pt", models["siren"], "siren", HPARAMS["siren"], "float32")
    (tmp_path / "junk.pt").write_text("not a checkpoint")
    assert main(["export", str(tmp_path / model), "-o", str(tmp_path / output)]) == code
    err = capsys.readouterr().err
    assert message in err and err.startswith("implicit3d export: error: ") and err.count("\n") == 1
    assert not (tmp_path / output).exists()


def test_load_rejects_other_npz(tmp_path):
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match="not an implicit3d export"):
        load(tmp_path / "other.npz")


def test_per_level_table_sizes_export_to_numpy_and_onnx(tmp_path):
    """A table of 2^9 rows at one level and 2^11 at another: every path hashes each level into its own rows."""
    hparams = {**HPARAMS["hashgrid"], "log2_table": [10, 10, 9, 9, 11, 11]}
    torch.manual_seed(0)
    model = build_model("hashgrid", **hparams).eval()
    with torch.no_grad():
        model.table.normal_(0, 0.1)
    points, _ = _test_points(1000)
    want = _torch_sdf(model, points)
    with torch.no_grad():
        assert (model(torch.from_numpy(points), portable=True).numpy() - want).max() <= 1e-6
    export_npz(model, {"arch": "hashgrid", "hparams": hparams}, tmp_path / "m.npz")
    assert np.abs(load(tmp_path / "m.npz")(points) - want).max() <= TOL
    ort = pytest.importorskip("onnxruntime")
    export_onnx(model, tmp_path / "m.onnx")
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    assert np.abs(session.run(None, {"points": points})[0] - want).max() <= TOL
