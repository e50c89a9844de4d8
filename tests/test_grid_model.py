"""The dense SDF grid (`grid`): the non-neural control architecture."""

import math
from pathlib import Path

import pytest
import torch
import yaml

from implicit3d.config import check_model_params
from implicit3d.errors import ConfigError
from implicit3d.models import DenseGridSDF, build_model
from implicit3d.quantize import BLOCK, decode_state, encode_state, stored_bytes
from implicit3d.training import TrainConfig, load_model, save_model, train

REPO = Path(__file__).resolve().parents[1]


def _vertex(i: int, j: int, k: int, r: int) -> list[float]:
    return [-1 + 2 * i / r, -1 + 2 * j / r, -1 + 2 * k / r]


def _both_paths(model: DenseGridSDF, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Training path (hand-written gather, grad enabled) and inference path (grid_sample)."""
    train_out = model(x)
    with torch.no_grad():
        infer_out = model(x)
    return train_out.detach(), infer_out


def test_build_model_and_shapes():
    model = build_model("grid", resolution=7, init=0.25)
    assert isinstance(model, DenseGridSDF)
    assert model.grid.shape == (8, 8, 8)
    assert [name for name, _ in model.named_parameters()] == ["grid"]
    assert list(model.state_dict()) == ["grid"]  # the stride buffer is derived, not stored
    x = torch.rand(11, 3) * 2 - 1
    for out in _both_paths(model, x):
        torch.testing.assert_close(out, torch.full((11,), 0.25))  # untouched vertices read as `init`
    with pytest.raises(ValueError, match="at least 1"):
        DenseGridSDF(resolution=0)


def test_values_at_vertices_are_the_stored_values():
    r = 5
    model = DenseGridSDF(resolution=r)
    with torch.no_grad():
        model.grid.copy_(torch.randn(r + 1, r + 1, r + 1, generator=torch.Generator().manual_seed(0)))
    ijk = [(0, 0, 0), (1, 2, 3), (5, 5, 5), (5, 0, 2), (4, 5, 1)]
    x = torch.tensor([_vertex(i, j, k, r) for i, j, k in ijk])
    want = torch.stack([model.grid[k, j, i] for i, j, k in ijk]).detach()  # indexed [z, y, x]
    for out in _both_paths(model, x):
        torch.testing.assert_close(out, want, atol=1e-5, rtol=0)


def test_interpolation_reproduces_a_linear_function_and_clamps_outside():
    r = 6
    model = DenseGridSDF(resolution=r)
    coef, offset = torch.tensor([0.3, -0.7, 1.1]), 0.2
    axis = torch.linspace(-1, 1, r + 1)
    z, y, x = torch.meshgrid(axis, axis, axis, indexing="ij")
    with torch.no_grad():
        model.grid.copy_(coef[0] * x + coef[1] * y + coef[2] * z + offset)
    pts = torch.rand(2000, 3, generator=torch.Generator().manual_seed(1)) * 2.4 - 1.2  # also outside the cube
    want = pts.clamp(-1, 1) @ coef + offset
    for out in _both_paths(model, pts):
        torch.testing.assert_close(out, want, atol=1e-5, rtol=0)


def test_gradients_flow_to_the_touched_vertices_and_to_the_points():
    r = 4
    model = DenseGridSDF(resolution=r)
    x = torch.tensor([_vertex(1, 1, 1, r), [0.1, 0.2, -0.3]])
    model(x).sum().backward()
    grad = model.grid.grad
    assert torch.isfinite(grad).all() and grad.sum().item() == pytest.approx(2.0)  # weights sum to 1 per point
    assert (grad != 0).sum() <= 1 + 8
    # Both paths give the same gradient with respect to the values.
    plain = model.grid.detach().clone().requires_grad_(True)
    n = r + 1
    out = torch.nn.functional.grid_sample(plain.view(1, 1, n, n, n), x.view(1, -1, 1, 1, 3), align_corners=True)
    out.sum().backward()
    torch.testing.assert_close(grad, plain.grad)
    # With x requiring grad (the eikonal loss) the gradient of a linear field is its slope.
    axis = torch.linspace(-1, 1, n)
    z, y, xx = torch.meshgrid(axis, axis, axis, indexing="ij")
    with torch.no_grad():
        model.grid.copy_(0.5 * xx - 2.0 * z)
    pts = (torch.rand(50, 3) * 1.8 - 0.9).requires_grad_(True)
    (g,) = torch.autograd.grad(model(pts).sum(), pts)
    torch.testing.assert_close(g, torch.tensor([0.5, 0.0, -2.0]).expand(50, 3), atol=1e-4, rtol=0)


@pytest.mark.parametrize("weight_dtype", ["int8", "float16"])
def test_stored_bytes_are_one_per_value_under_int8(tmp_path, weight_dtype):
    r = 49
    model = DenseGridSDF(resolution=r)
    with torch.no_grad():
        model.grid.uniform_(-0.1, 0.1)
    n = (r + 1) ** 3
    expected = n + 4 * math.ceil(n / BLOCK) + 4 if weight_dtype == "int8" else 2 * n  # codes + scales + block size
    state = encode_state(model.state_dict(), weight_dtype)
    assert stored_bytes(state) == expected
    if weight_dtype == "int8":
        assert state["grid"].dtype == torch.int8  # one large tensor: block-quantized like a hash table
    back = decode_state(state)["grid"]
    assert (back - model.grid).abs().max() <= 0.1 / 127 / 2 + 1e-6
    path = tmp_path / "grid.pt"
    assert save_model(path, model, "grid", {"resolution": r}, weight_dtype) == expected
    loaded, info = load_model(path)
    assert isinstance(loaded, DenseGridSDF) and info["model_bytes"] == expected
    torch.testing.assert_close(loaded.grid, back)


def test_trains_with_the_shared_loop_towards_a_sphere():
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    pts = torch.rand(20000, 3, generator=gen) * 2 - 1
    sdf = pts.norm(dim=1) - 0.5
    model = DenseGridSDF(resolution=12)
    cfg = TrainConfig(steps=150, batch_size=1024, lr=0.02, val_every=50, clamp=0.1)
    result = train(model, pts[:18000].numpy(), sdf[:18000].numpy(), pts[18000:].numpy(), sdf[18000:].numpy(), cfg,
                   torch.device("cpu"), progress=False)  # fmt: skip
    assert result.best_val_loss < 0.01
    with torch.no_grad():
        pred = model(pts[18000:])
    agree = ((pred < 0) == (sdf[18000:] < 0)).float().mean().item()
    assert agree > 0.97


def test_config_accepts_grid_params_and_rejects_unknown_ones():
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    assert config["architectures"]["grid"]["arch"] == "grid"
    assert "grid" not in config["models"]  # a control, trained only when asked for
    config["architectures"]["grid"]["params"] = {"resolution": 9, "init": 0.1}
    check_model_params(config)
    config["architectures"]["grid"]["params"] = {"resolution": 9, "levels": 4}
    with pytest.raises(ConfigError, match="unknown parameter 'levels' for grid \\(allowed: resolution, init\\)"):
        check_model_params(config)


def test_quantization_aware_training_sees_the_stored_grid():
    # The parameter's name must not clash with the parametrization's ModuleDict (`values` did).
    from implicit3d.quantize import fake_quantize, remove_fake_quantize

    model = DenseGridSDF(resolution=30)
    with torch.no_grad():
        model.grid.uniform_(-0.1, 0.1)
    stored = decode_state(encode_state(model.state_dict(), "int8"))["grid"]
    done = fake_quantize(model, "int8")
    assert len(done) == 1
    x = torch.rand(64, 3) * 2 - 1
    train_out, infer_out = _both_paths(model, x)
    model(x).sum().backward()
    assert model.parametrizations.grid.original.grad.abs().sum() > 0  # straight through to the float values
    remove_fake_quantize(done)
    plain = DenseGridSDF(resolution=30)
    plain.load_state_dict({"grid": stored})
    for out in (train_out, infer_out):
        torch.testing.assert_close(out, _both_paths(plain, x)[1], atol=1e-6, rtol=0)
