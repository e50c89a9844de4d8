"""The compiled training step and inference of the hash grid against torch's autograd path."""

import numpy as np
import pytest
import torch

from implicit3d import hashgrid_fused
from implicit3d.models import HashGridSDF
from implicit3d.training import TrainConfig, sdf_loss, train

HEADS = {
    "default": {"levels": 8, "log2_table": [13] * 6 + [14] * 2, "base_resolution": 16, "max_resolution": 128, "hidden": 32, "layers": 2},
    "three layers, no xyz": {"levels": 4, "log2_table": 10, "base_resolution": 4, "max_resolution": 64, "hidden": 16, "layers": 3, "include_xyz": False},
    "one layer": {"levels": 3, "log2_table": 6, "base_resolution": 8, "max_resolution": 32, "hidden": 8, "layers": 1},
}


def model_and_points(head: str, count: int = 1000):
    torch.manual_seed(0)
    model = HashGridSDF(features=2, init_scale=0.5, **HEADS[head])
    x = torch.rand(5000, 3) * 2.4 - 1.2  # also outside the cube, where the corners are clamped
    y = x.norm(dim=1) - 0.6
    picks = torch.randint(0, 5000, (count,))  # repeats, and a count that is no multiple of the tile
    return model, x, y, picks


@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("clamp", [0.05, 10.0])
def test_loss_and_every_gradient_match_autograd(head, clamp):
    model, x, y, picks = model_and_points(head, 1000)
    loss = hashgrid_fused.train_step(model, x, y, picks, clamp)
    compiled = {name: p.grad.clone() for name, p in model.named_parameters()}
    model.zero_grad(set_to_none=True)
    with torch.autograd.set_grad_enabled(True):
        reference = sdf_loss(model.mlp(model.encode(x[picks])).squeeze(-1), y[picks], "l1_clamp", clamp)
    reference.backward()
    assert loss == pytest.approx(reference.item(), rel=1e-5)
    assert any(g.abs().max() > 0 for g in compiled.values())
    for name, p in model.named_parameters():
        torch.testing.assert_close(compiled[name], p.grad, atol=1e-7, rtol=1e-4, msg=name)


def test_points_beyond_the_band_on_their_side_give_no_loss():
    model, x, _, picks = model_and_points("one layer", 300)
    with torch.no_grad():
        model.mlp[-1].bias.fill_(5.0)  # every prediction far outside
    far = torch.full((x.shape[0],), 1.0)
    assert hashgrid_fused.train_step(model, x, far, picks, 0.1) == 0.0
    assert all(p.grad.abs().max() == 0 for p in model.parameters())


@pytest.mark.parametrize("head", HEADS)
def test_inference_matches_the_autograd_path(head):
    model, x, _, _ = model_and_points(head)
    with torch.no_grad():
        compiled = model(x)
    with torch.enable_grad():
        reference = model(x).detach()
    torch.testing.assert_close(compiled, reference, atol=1e-6, rtol=1e-5)
    assert model(x[:0]).shape == (0,)


@pytest.mark.parametrize(
    ("training", "expected"),
    [({}, 20), ({"loss": "mse"}, 0), ({"weight_dtype": "learned_step", "rate_weight": 3e-4}, 20),
     ({"weight_dtype": "learned_step", "rate_weight": 3e-4, "compiled": False}, 0)],
    ids=["l1_clamp", "mse", "learned steps", "learned steps, compiled false"],
)  # fmt: skip
def test_training_takes_the_compiled_step_only_where_it_computes_that_loss(monkeypatch, training, expected):
    calls = []
    real = hashgrid_fused.gradients
    monkeypatch.setattr(hashgrid_fused, "gradients", lambda *a: calls.append(1) or real(*a))
    rng = np.random.default_rng(0)
    xyz = rng.uniform(-1, 1, (4000, 3)).astype(np.float32)
    sdf = np.linalg.norm(xyz, axis=1) - 0.5
    model = HashGridSDF(levels=3, log2_table=12, base_resolution=4, max_resolution=16, hidden=8)
    cfg = TrainConfig(steps=20, batch_size=256, val_every=10, **training)
    result = train(model, xyz, sdf, xyz[:500], sdf[:500], cfg, torch.device("cpu"), progress=False)
    assert len(calls) == expected and result.steps == 20


@pytest.mark.parametrize("head_step", [0.0, 0.25], ids=["every tensor learned", "head in float"])
def test_under_learned_steps_the_compiled_step_gives_autograds_gradients(head_step):
    """The loops take the quantized values; autograd carries their gradients, and the rate term's,
    to the parameters and the learned steps."""
    from implicit3d import learned_step
    from implicit3d.training import _compiled_step

    model, x, y, picks = model_and_points("default", 1000)
    quant = learned_step.Training(model, rate_weight=3e-4, head_step=head_step)
    opt = torch.optim.SGD(model.parameters(), lr=0.0)  # leaves the weights, and the gradients, as they are
    loss = _compiled_step(model, opt, x, y, picks, TrainConfig(clamp=0.05), 1, quant.penalty)
    compiled = {name: None if p.grad is None else p.grad.clone() for name, p in model.named_parameters()}
    model.zero_grad(set_to_none=True)
    reference = sdf_loss(model.mlp(model.encode(x[picks])).squeeze(-1), y[picks], "l1_clamp", 0.05) + quant.penalty()
    reference.backward()
    assert loss == pytest.approx(reference.item(), rel=1e-5)
    assert compiled["parametrizations.table.0.log_step"].abs().min() > 0  # every level's step learns
    for name, p in model.named_parameters():
        if p.grad is None:
            assert compiled[name] is None, name
        else:
            torch.testing.assert_close(compiled[name], p.grad, atol=1e-7, rtol=1e-4, msg=name)

