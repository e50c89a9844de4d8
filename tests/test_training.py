import numpy as np
import pytest
import torch

from implicit3d import learned_step
from implicit3d.errors import TrainingError
from implicit3d.metrics import occupancy_metrics
from implicit3d.models import build_model
from implicit3d.quantize import fake_quantize
from implicit3d.training import (
    TrainConfig,
    load_model,
    lr_scheduler,
    param_groups,
    save_model,
    sdf_loss,
    train,
    train_with_retry,
)

HASH = {"levels": 4, "log2_table": 12, "base_resolution": 4, "max_resolution": 32, "hidden": 16}


def sphere_data(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=(n, 3)).astype(np.float32)
    return x, (np.linalg.norm(x, axis=1) - 0.5).astype(np.float32)


def test_hashgrid_fits_a_sphere():
    x, y = sphere_data(20000, 0)
    vx, vy = sphere_data(2000, 1)
    model = build_model("hashgrid", **HASH)
    cfg = TrainConfig(steps=300, batch_size=2048, lr=1e-2, val_every=100)
    result = train(model, x, y, vx, vy, cfg, torch.device("cpu"), progress=False)
    tx, ty = sphere_data(5000, 2)
    pred = model(torch.from_numpy(tx)).detach().numpy()
    assert occupancy_metrics(ty, pred)["f1"] > 0.97
    assert result.steps == 300 and result.best_val_loss < 0.01


def test_same_seed_gives_identical_weights():
    x, y = sphere_data(5000, 0)
    outs = []
    for _ in range(2):
        model = build_model("hashgrid", **HASH)
        torch.manual_seed(0)
        train(model, x, y, x[:500], y[:500], TrainConfig(steps=20, batch_size=256, val_every=10), torch.device("cpu"), progress=False)
        outs.append(model(torch.from_numpy(x[:100])).detach())
    assert torch.equal(outs[0], outs[1])


def test_early_stopping_stops_and_keeps_best():
    x, y = sphere_data(2000, 0)
    vx, vy = sphere_data(200, 1)
    vy = -vy  # validation target the model cannot approach: it gets no better after the first checks
    cfg = TrainConfig(steps=1000, batch_size=256, val_every=10, patience=2)
    result = train(build_model("hashgrid", **HASH), x, y, vx, vy, cfg, torch.device("cpu"), progress=False)
    assert result.steps < 1000


def test_nan_loss_retries_with_lower_lr_then_fails_clearly():
    x, y = sphere_data(1000, 0)
    bad = y.copy()
    bad[:] = np.nan
    with pytest.raises(TrainingError, match=r"retry with lr=0\.001 also diverged"):
        train_with_retry(lambda: build_model("hashgrid", **HASH), x, bad, x, y,
                         cfg=TrainConfig(steps=5, lr=1e-2), device=torch.device("cpu"), progress=False)


def test_retry_succeeds_when_lower_lr_is_stable():
    x, y = sphere_data(1000, 0)
    attempts = []

    def factory():
        model = build_model("hashgrid", **HASH)
        if not attempts:  # the first model is broken: its output is NaN
            with torch.no_grad():
                model.table.fill_(float("nan"))
        attempts.append(1)
        return model

    model, result = train_with_retry(factory, x, y, x, y, cfg=TrainConfig(steps=5, val_every=5),
                                     device=torch.device("cpu"), progress=False)
    assert result.retried and result.lr == pytest.approx(1e-3)


def test_save_load_fp16_round_trip(tmp_path):
    model = build_model("hashgrid", **HASH)
    n_bytes = save_model(tmp_path / "m.pt", model, "hashgrid", HASH, "float16")
    loaded, info = load_model(tmp_path / "m.pt")
    assert info["model_bytes"] == n_bytes == 2 * sum(p.numel() for p in model.parameters())
    x = torch.rand(50, 3) * 2 - 1
    torch.testing.assert_close(loaded(x), model(x), atol=1e-3, rtol=1e-2)


@pytest.mark.parametrize("kind", ["l1_clamp", "mse", "mape"])
def test_losses_are_zero_at_target_and_positive_elsewhere(kind):
    t = torch.tensor([-0.2, 0.0, 0.3])
    assert sdf_loss(t, t, kind, 0.1) == 0
    assert sdf_loss(t + 0.05, t, kind, 0.1) > 0


def test_l1_clamp_ignores_errors_beyond_the_band():
    assert sdf_loss(torch.tensor([0.5]), torch.tensor([0.9]), "l1_clamp", 0.1) == 0


def test_batch_sampler_keeps_the_near_fraction():
    from implicit3d.training import BatchSampler

    mask = np.zeros(1000, dtype=bool)
    mask[:100] = True  # 10 % near points in the pool
    idx = BatchSampler(mask, 1000, 0.8, torch.Generator().manual_seed(0))(5000)
    assert len(idx) == 5000
    assert mask[idx.numpy()].mean() == pytest.approx(0.8, abs=1e-3)
    uniform = BatchSampler(mask, 1000, 0.0, torch.Generator().manual_seed(0))(5000)
    assert mask[uniform.numpy()].mean() == pytest.approx(0.1, abs=0.02)


def test_table_lr_scale_puts_the_tables_in_their_own_group():
    model = build_model("hashgrid", **HASH)
    assert len(param_groups(model, TrainConfig(lr=0.01))) == 1
    table, head = param_groups(model, TrainConfig(lr=0.01, table_lr_scale=3.0))
    assert table["lr"] == pytest.approx(0.03) and "lr" not in head  # the head takes the optimizer's lr
    assert [p.shape for p in table["params"]] == [model.table.shape]
    assert len(head["params"]) == len(list(model.parameters())) - 1
    with pytest.raises(ValueError, match="no hash table"):
        param_groups(build_model("mlp", hidden=16, layers=2), TrainConfig(table_lr_scale=3.0))


@pytest.mark.parametrize("weight_dtype", ["learned_step", "int8"])
def test_table_lr_scale_finds_a_parametrized_table(weight_dtype):
    """Under learned steps or quantization-aware training the table is a parametrization's `original`."""
    model = build_model("hashgrid", **HASH)
    if weight_dtype == "learned_step":
        learned_step.Training(model, rate_weight=0.0)
    else:
        fake_quantize(model, weight_dtype)
    table, head = param_groups(model, TrainConfig(lr=0.01, table_lr_scale=3.0))
    assert [p.shape for p in table["params"]] == [model.parametrizations.table.original.shape]
    assert len(head["params"]) == len(list(model.parameters())) - 1


def test_table_lr_scale_moves_the_tables_further():
    """One Adam step moves each touched table value by about its lr: 3x lr, about 3x the change."""
    x, y = sphere_data(2000, 0)
    moved = []
    for scale in (1.0, 3.0):
        model = build_model("hashgrid", **HASH)
        start = model.table.detach().clone()
        train(model, x, y, x[:200], y[:200], TrainConfig(steps=1, batch_size=512, val_every=1, table_lr_scale=scale, lr_schedule="constant"),
              torch.device("cpu"), progress=False)  # fmt: skip
        moved.append((model.table.detach() - start).abs().max().item())
    assert moved[1] == pytest.approx(3 * moved[0], rel=0.05)


def test_linear_schedule_decays_to_a_hundredth():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.01)
    sched = lr_scheduler(opt, TrainConfig(lr=0.01, steps=10, lr_schedule="linear"))
    lrs = []
    for _ in range(10):
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    assert lrs[4] == pytest.approx(0.01 * (1 - 0.99 * 0.5)) and lrs[-1] == pytest.approx(1e-4)
