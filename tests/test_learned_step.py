import math

import numpy as np
import pytest
import torch

from implicit3d import learned_step
from implicit3d.learned_step import QMAX, _quantize_tensors, _QuantizeRuns, rate_bits
from implicit3d.models import build_model
from implicit3d.quantize import decode_state, encode_state, stored_bytes
from implicit3d.training import TrainConfig, load_model, save_model, train

HASH = {"levels": 4, "log2_table": 12, "base_resolution": 4, "max_resolution": 32, "hidden": 16}


def _sphere(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Points in the cube and their SDF to a sphere of radius 0.5."""
    x = np.random.default_rng(seed).uniform(-1, 1, (4000, 3)).astype(np.float32)
    return x, (np.linalg.norm(x, axis=1) - 0.5).astype(np.float32)


def _both_paths(w, steps, runs, scale, rate_weight=0.3, seed=0):
    """Values, sums, bits and gradients from the compiled kernels and from the tensor operations."""
    starts = torch.cat([torch.zeros(1, dtype=torch.int64), runs.cumsum(0)])
    grad_out = torch.randn(w.numel(), generator=torch.Generator().manual_seed(seed))
    found = []
    for kernel in (True, False):
        wi, si, bi = w.clone().requires_grad_(), steps.clone().requires_grad_(), scale.clone().requires_grad_()
        values, sums = _QuantizeRuns.apply(wi, si, starts) if kernel else _quantize_tensors(wi, si, runs)
        bits = rate_bits(sums, bi, torch.full_like(bi, 0.4))
        ((values * grad_out).sum() + rate_weight * bits).backward()
        found.append((values.detach(), sums.detach(), bits.detach(), wi.grad, si.grad, bi.grad))
    return found


def test_kernel_matches_tensor_operations():
    gen = torch.Generator().manual_seed(0)
    runs = torch.tensor([300, 1000, 7])
    w = torch.randn(int(runs.sum()), generator=gen) * 0.2
    w[:5] *= 1000  # beyond +-QMAX steps: clamped
    w[10] = 0.0
    (k_values, k_sums, k_bits, k_w, k_s, k_b), (t_values, t_sums, t_bits, t_w, t_s, t_b) = _both_paths(
        w, torch.tensor([0.03, 0.01, 0.5]), runs, torch.tensor([0.7, 3.0, 0.05])
    )
    assert torch.equal(k_values, t_values) and torch.equal(k_sums, t_sums)
    torch.testing.assert_close(k_bits, t_bits)
    torch.testing.assert_close(k_w, t_w, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(k_s, t_s, rtol=1e-4, atol=1e-4)  # sums of thousands of terms, in another order
    torch.testing.assert_close(k_b, t_b)


def test_values_are_codes_times_the_step_and_clamped():
    runs = torch.tensor([4])
    w = torch.tensor([0.26, -0.24, 0.05, 100.0])
    values, sums = _quantize_tensors(w, torch.tensor([0.1]), runs)
    torch.testing.assert_close(values, torch.tensor([0.3, -0.2, 0.0, QMAX * 0.1]))
    assert sums.tolist() == [[1.0, 3.0, pytest.approx(2.5 + 1.5 + QMAX - 0.5)]]


def test_rate_pulls_nonzero_codes_towards_zero():
    w = torch.tensor([0.31, -0.42, 0.01]).requires_grad_()
    values, sums = _QuantizeRuns.apply(w, torch.tensor([0.1]), torch.tensor([0, 3]))
    rate_bits(sums, torch.tensor([1.0]), torch.tensor([0.0])).backward()
    assert w.grad[0] > 0 and w.grad[1] < 0 and w.grad[2] == 0  # descent shrinks |w|; a zero code feels nothing


def test_baked_model_stores_and_loads_exactly(tmp_path):
    torch.manual_seed(0)
    model = build_model("hashgrid", **HASH)
    x, y = _sphere(0)
    cfg = TrainConfig(steps=30, batch_size=512, lr=0.01, val_every=10, weight_dtype="learned_step", weight_coding="ans", rate_weight=1e-3)
    train(model, x, y, x[:500], y[:500], cfg, torch.device("cpu"), progress=False)
    assert model.table_qstep.shape == (2 * HASH["levels"],) and model.mlp[0].weight_qstep.shape == (1,)
    pts = torch.from_numpy(x[:300])
    with torch.no_grad():
        expected = model(pts)
    for coding in ("ans", "lzma", "none"):
        state = encode_state(model.state_dict(), "learned_step", coding)
        assert not any(k.endswith(("_qstep", "_qruns")) for k in state)
        decoded = decode_state(state)
        for key, value in decoded.items():
            assert torch.equal(value, model.state_dict()[key]), (coding, key)
        n = save_model(tmp_path / f"{coding}.pt", model, "hashgrid", HASH, "learned_step", coding)
        loaded, info = load_model(tmp_path / f"{coding}.pt")
        assert info["model_bytes"] == n == stored_bytes(state)
        with torch.no_grad():
            assert torch.equal(loaded(pts), expected)


def test_a_cap_shrinks_the_table_and_only_weights_within_it_are_kept():
    torch.manual_seed(0)
    x, y = _sphere(1)
    sizes = {}
    for cap in (0, 300):
        torch.manual_seed(0)
        model = build_model("hashgrid", **HASH)
        cfg = TrainConfig(steps=60, batch_size=512, lr=0.01, val_every=10, weight_dtype="learned_step", weight_coding="ans", rate_weight=1e-4, rate_cap_bytes=cap)
        train(model, x, y, x[:500], y[:500], cfg, torch.device("cpu"), progress=False)
        sizes[cap] = stored_bytes({k: v for k, v in encode_state(model.state_dict(), "learned_step", "ans").items() if k.startswith("table")})
    assert sizes[300] < 0.7 * sizes[0]


def test_a_cap_never_reached_keeps_the_last_weights(caplog):
    x, y = _sphere(3)
    torch.manual_seed(0)
    model = build_model("hashgrid", **HASH)
    cfg = TrainConfig(steps=20, batch_size=512, lr=0.01, val_every=5, weight_dtype="learned_step", rate_weight=1e-4, rate_cap_bytes=1)
    result = train(model, x, y, x[:500], y[:500], cfg, torch.device("cpu"), progress=False)
    assert result.best_step == 20 and math.isfinite(result.best_val_loss)
    assert "stayed above rate_cap_bytes" in caplog.text


def test_training_controller_tracks_the_cap():
    model = build_model("hashgrid", **HASH)
    quant = learned_step.Training(model, rate_weight=1e-3, cap_bytes=10.0)
    model(torch.rand(64, 3) * 2 - 1)
    quant.penalty()
    assert quant.estimate > 10.0 and quant.scale > 1.0 and not quant.within_cap()
    quant.finish(model)
    assert hasattr(model, "table_qstep") and not hasattr(model, "parametrizations")


def test_the_cap_is_judged_on_the_coded_table_not_the_estimate():
    torch.manual_seed(0)
    model = build_model("hashgrid", **HASH)
    quant = learned_step.Training(model, rate_weight=1e-3, cap_bytes=1.0)
    model(torch.rand(64, 3) * 2 - 1)
    quant.penalty()
    coded = quant.coded_bytes()
    quant.estimate = 10.0 * coded  # what the controller steers by; the cap's test ignores it
    quant.cap_bytes = coded
    assert quant.within_cap()
    quant.cap_bytes = coded - 1
    assert not quant.within_cap()
    quant.finish(model)
    assert encode_state(model.state_dict(), "learned_step", "ans")["table"].numel() == coded


def test_a_checkpoint_left_out_for_its_size_is_reported(caplog, monkeypatch):
    x, y = _sphere(3)
    torch.manual_seed(0)
    model = build_model("hashgrid", **HASH)
    calls = iter([True] + [False] * 10)  # only the first checkpoint fits
    monkeypatch.setattr(learned_step.Training, "within_cap", lambda self: next(calls))
    cfg = TrainConfig(steps=60, batch_size=512, lr=0.01, val_every=10, weight_dtype="learned_step", rate_weight=1e-4, rate_cap_bytes=1e9)
    result = train(model, x, y, x[:500], y[:500], cfg, torch.device("cpu"), progress=False)
    assert result.best_step == 10 and min(h["val_loss"] for h in result.history) < result.best_val_loss
    assert "kept step 10" in caplog.text and "with a larger table" in caplog.text


def test_runs_must_cover_the_tensor():
    with pytest.raises(ValueError, match="runs of 5 values for a tensor of 6"):
        learned_step.LearnedStep([2, 3], 6)


def test_rate_bits_are_the_codes_cost_under_the_spike_and_tail():
    b, logit = torch.tensor([1.3]), torch.tensor([0.7])
    codes = [0, 0, 1, -2, 3]
    p0 = 1 / (1 + math.exp(-0.7))
    probs = [p0 if k == 0 else (1 - p0) / 2 * math.exp(-(abs(k) - 1) / 1.3) * (1 - math.exp(-1 / 1.3)) for k in codes]
    total = p0 + 2 * sum((1 - p0) / 2 * math.exp(-(k - 1) / 1.3) * (1 - math.exp(-1 / 1.3)) for k in range(1, 300))
    assert total == pytest.approx(1.0)
    sums = torch.tensor([[2.0, 3.0, 0.5 + 1.5 + 2.5]])
    assert rate_bits(sums, b, logit).item() == pytest.approx(-sum(math.log2(p) for p in probs), rel=1e-6)


def test_head_trained_in_float_is_rounded_at_the_end():
    torch.manual_seed(0)
    model = build_model("hashgrid", **HASH)
    x, y = _sphere(2)
    cfg = TrainConfig(steps=20, batch_size=512, lr=0.01, val_every=10, weight_dtype="learned_step", rate_weight=1e-3, head_step=1 / 32)
    train(model, x, y, x[:500], y[:500], cfg, torch.device("cpu"), progress=False)
    weight = model.mlp[0].weight.detach()
    step = model.mlp[0].weight_qstep
    assert step.item() == pytest.approx(weight.square().mean().sqrt().item() / 32, rel=0.02)  # rounded values: a slightly other rms
    assert torch.equal(learned_step.decoded(learned_step.codes_of(weight, step, model.mlp[0].weight_qruns), step, model.mlp[0].weight_qruns), weight)
