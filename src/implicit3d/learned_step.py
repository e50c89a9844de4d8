"""Integer codes with a learned step per run of values, and the bits they will cost.

A tensor is cut into contiguous runs of its flattened values (a hash grid's table: one run per
feature and level, `HashGridSDF.quant_runs`; any other tensor: one run). Each run r stores codes
k = round(w / step_r), clamped to +-QMAX, and decodes to k * step_r. During training the forward
pass sees exactly those values; gradients pass straight through the rounding to w, and to the
step as in LSQ (Esser et al. 2020): d(k * step)/d step = k - w / step.

The rate: each run's codes are modelled as a zero spike of learned probability p0 and a
two-sided geometric tail of learned scale b (in steps) for the others, whose cost in bits,
-log2 P(k), is what an entropy coder with that model pays (a plain discretized Laplace fitted
worse: it overestimated the coded bytes by 10-25 %). A run's bits are then a function of its count
of zero codes n0, of others n1 and of S = sum over nonzero codes of (|k| - 0.5); through the
rounding, S's gradient is that of sum |w / step| over the nonzero codes, which pushes them towards
zero. With `rate_weight` the training so trades bits for loss (`Training`); the codes are then
stored by the ANS coder (`entropy`), whose models are the codes' own histograms.

On a CPU one compiled pass (numba) does the rounding and the run sums, and one more the gradients;
elsewhere the same arithmetic runs as tensor operations (`_quantize_tensors`, the reference the
kernel is tested against).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from numba import njit
from torch import nn
from torch.nn.utils import parametrize

from . import entropy

QMAX = 127  # codes fit a signed byte
INIT_STEP = 0.01  # a trained table's values have a standard deviation of about 0.1-0.3
LARGE = 16384  # tensors of this many values or more (a hash grid's table) carry the size, and the rate term
MIN_SCALE = 0.05  # the tail scale's floor, in steps
CAP_GAIN = 0.02  # per step, how fast the rate weight grows with the estimate's excess over the cap (x e^0.01 at 50 % over)
MAX_SCALE = 1e9  # the cap's factor at most: the rate term dominates the loss long before; keeps the loss finite under any cap
STEP_SUFFIX = "_qstep"  # baked models carry each run's step and length as buffers under these names
RUNS_SUFFIX = "_qruns"
_LN2 = math.log(2.0)


# Reassociation lets the run sums vectorize; the values themselves are computed exactly as `codes_of`
# and `decoded` compute them (w / step rounded, times step).
@njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc"})
def _forward_kernel(w, steps, starts, out, sums):
    """out = k * step per value; sums[r] = (zeros, nonzeros, sum of |k| - 0.5 over nonzeros)."""
    qmax = np.float32(QMAX)
    for r in range(steps.shape[0]):
        s = steps[r]
        nonzero = np.int64(0)
        total = np.float32(0.0)
        for i in range(starts[r], starts[r + 1]):
            k = np.rint(min(max(w[i] / s, -qmax), qmax))
            out[i] = k * s
            a = abs(k)
            nonzero += a > 0
            total += max(a - np.float32(0.5), np.float32(0.0))
        sums[r, 0] = starts[r + 1] - starts[r] - nonzero
        sums[r, 1] = nonzero
        sums[r, 2] = total


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc", "contract"})
def _backward_kernel(w, steps, starts, grad_out, grad_sum, grad_w, grad_step):
    """Gradients of the values (straight through the rounding, zero where clamped) and of each
    run's step (LSQ), with grad_sum[r] the gradient of the run's S (0 without rate). Branch-free."""
    qmax = np.float32(QMAX)
    zero, one = np.float32(0.0), np.float32(1.0)
    for r in range(steps.shape[0]):
        s = steps[r]
        inv = one / s
        rate = grad_sum[r] * inv  # d S / d w of a nonzero code is sign(k) / s
        acc = np.float32(0.0)
        for i in range(starts[r], starts[r + 1]):
            q = w[i] * inv
            c = min(max(q, -qmax), qmax)
            k = np.rint(c)
            inside = one if c == q else zero
            sign = (k > 0) - (k < 0)
            g = grad_out[i]
            grad_w[i] = inside * (g + rate * sign)
            # LSQ: d(k s)/ds = k - q inside the range, k (= +-QMAX) where clamped; the rate's d S/ds = -|q|/s
            acc += g * (k - inside * q) - inside * rate * sign * q
        grad_step[r] = acc


class _QuantizeRuns(torch.autograd.Function):
    """(values k * step, run sums (R, 3)) of a flat float32 CPU tensor; the sums' third column,
    S, carries the gradient described in the module docstring."""

    @staticmethod
    def forward(ctx, w, steps, starts):
        wd, sd = w.detach().contiguous(), steps.detach().float().contiguous()
        out = torch.empty_like(wd)
        sums = torch.zeros(sd.shape[0], 3, dtype=torch.float64)
        _forward_kernel(wd.numpy(), sd.numpy(), starts.numpy(), out.numpy(), sums.numpy())
        ctx.save_for_backward(wd, sd, starts)
        return out, sums.float()

    @staticmethod
    def backward(ctx, grad_out, grad_sums):
        wd, sd, starts = ctx.saved_tensors
        grad_w = torch.empty_like(wd)
        grad_step = torch.zeros(sd.shape[0], dtype=torch.float32)
        g_s = grad_sums[:, 2].contiguous().float()
        _backward_kernel(wd.numpy(), sd.numpy(), starts.numpy(), grad_out.contiguous().numpy(), g_s.numpy(), grad_w.numpy(), grad_step.numpy())
        return grad_w, grad_step, None


def _quantize_tensors(w: torch.Tensor, steps: torch.Tensor, runs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The same as `_QuantizeRuns` in tensor operations (any device)."""
    step = torch.repeat_interleave(steps, runs)
    scaled = (w / step).clamp(-QMAX, QMAX)
    rounded = scaled.round()
    through = scaled + (rounded - scaled).detach()  # the codes, with the gradient of `scaled`
    run_id = torch.repeat_interleave(torch.arange(len(runs), device=w.device), runs)
    nonzero = rounded != 0
    zeros = torch.zeros(len(runs), device=w.device)
    n0 = zeros.index_add(0, run_id, (~nonzero).float())
    n1 = zeros.index_add(0, run_id, nonzero.float())
    total = zeros.index_add(0, run_id, torch.where(nonzero, through.abs() - 0.5, torch.zeros_like(through)))
    return through * step, torch.stack([n0.detach(), n1.detach(), total], 1)


def rate_bits(sums: torch.Tensor, scale: torch.Tensor, zero_logit: torch.Tensor) -> torch.Tensor:
    """Total -log2 P(k) of each run's codes, from its sums (zeros n0, nonzeros n1, S), under a zero
    spike of probability p0 = sigmoid(zero_logit) and a two-sided geometric tail of scale b (in
    steps) for the others: P(k) = (1 - p0) / 2 * exp(-(|k| - 1)/b) (1 - exp(-1/b)), |k| >= 1."""
    log_p0 = torch.nn.functional.logsigmoid(zero_logit)
    log_p1 = torch.nn.functional.logsigmoid(-zero_logit)
    tail = -(log_p1 - math.log(2.0) + torch.log(-torch.expm1(-1.0 / scale))) / _LN2
    ones = sums[:, 2] - 0.5 * sums[:, 1]  # sum over nonzero codes of |k| - 1
    return (-sums[:, 0] * log_p0 / _LN2 + sums[:, 1] * tail + ones / (scale * _LN2)).sum()


class LearnedStep(nn.Module):
    """Parametrization: the stored values k * step in the forward pass, with the codes' bits kept in
    `bits` (a scalar tensor with gradient) when `rate` is on."""

    def __init__(self, runs: list[int], numel: int, rate: bool = False, init_step: float = INIT_STEP):
        super().__init__()
        if sum(runs) != numel:
            raise ValueError(f"runs of {sum(runs)} values for a tensor of {numel}")
        self.register_buffer("runs", torch.tensor(runs, dtype=torch.int64), persistent=False)
        self.register_buffer("starts", torch.tensor(np.concatenate([[0], np.cumsum(runs)]), dtype=torch.int64), persistent=False)
        self.log_step = nn.Parameter(torch.full((len(runs),), math.log(init_step)))
        self.log_scale = nn.Parameter(torch.zeros(len(runs)))  # the tail's scale, in steps
        self.zero_logit = nn.Parameter(torch.zeros(len(runs)))  # log-odds of a zero code
        self.rate = rate
        self.bits = torch.zeros(())

    def steps(self) -> torch.Tensor:
        return self.log_step.exp()

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        flat = weight.reshape(-1)
        if flat.device.type == "cpu" and flat.dtype == torch.float32:
            values, sums = _QuantizeRuns.apply(flat, self.steps(), self.starts)
        else:
            values, sums = _quantize_tensors(flat, self.steps(), self.runs)
        if self.rate and torch.is_grad_enabled():
            self.bits = rate_bits(sums, self.log_scale.exp().clamp_min(MIN_SCALE), self.zero_logit)
        return values.view(weight.shape)


def quant_runs(module: nn.Module, name: str, tensor: torch.Tensor) -> list[int]:
    runs = getattr(module, "quant_runs", None)
    return runs(name) if runs is not None else [tensor.numel()]


def attach(model: nn.Module, rate: bool, which: str = "all") -> list[tuple[nn.Module, str]]:
    """Learned-step quantization on the floating parameters (in place): `which` all, the large ones
    (LARGE values or more: a hash grid's table) or the small ones (the MLP head). Returns (module,
    name) pairs. With `rate`, the large ones keep their bits for the loss; the small rest is a
    rounding error in the size."""
    done = []
    for module in list(model.modules()):
        for name, param in list(module.named_parameters(recurse=False)):
            large = param.numel() >= LARGE
            if param.is_floating_point() and (which == "all" or (which == "large") == large):
                quantizer = LearnedStep(quant_runs(module, name, param), param.numel(), rate and large).to(param.device)
                parametrize.register_parametrization(module, name, quantizer)
                done.append((module, name))
    return done


def round_model(model: nn.Module, fraction: float = 0.25, which: str = "all") -> None:
    """Learned-step codes without training (in place) of `which` parameters (see `attach`): each
    run's step `fraction` of its values' root mean square (a run may be a single value: the output
    layer's bias), then baked as training bakes them."""
    done = attach(model, rate=False, which=which)
    with torch.no_grad():
        for module, name in done:
            quantizer = module.parametrizations[name][0]
            runs = torch.split(module.parametrizations[name].original.reshape(-1), quantizer.runs.tolist())
            quantizer.log_step.copy_(torch.stack([(r.float().square().mean().sqrt() * fraction).clamp_min(1e-6).log() for r in runs]))
    bake(done)


class Training:
    """Learned-step quantization over one training run: attached to the model on creation; the rate
    term for each step's loss (with a cap: the rate weight grows while the table's estimated bytes
    exceed `cap_bytes`); whether the weights are within the cap; and the baking at the end."""

    def __init__(self, model: nn.Module, rate_weight: float, head_step: float = 0.0, cap_bytes: float = 0.0):
        self.rate_weight, self.head_step, self.cap_bytes = rate_weight, head_step, cap_bytes
        self.done = attach(model, rate=rate_weight > 0, which="large" if head_step > 0 else "all")
        self.values = sum(module.parametrizations[name].original.numel() for module, name in self.done)
        self.scale = 1.0  # the cap's factor on rate_weight
        self.estimate = 0.0  # bytes of the large tensors' codes at the last step, by the rate model

    def penalty(self) -> torch.Tensor | float:
        """The rate term of the last forward pass (after it, before its backward)."""
        if self.rate_weight <= 0:
            return 0.0
        bits = total_bits(self.done)
        self.estimate = float(bits.detach()) / 8
        if self.cap_bytes > 0:
            grow = min(CAP_GAIN * (self.estimate / self.cap_bytes - 1.0), math.log(MAX_SCALE))
            self.scale = min(MAX_SCALE, max(1.0, self.scale * math.exp(grow)))
        return self.rate_weight * self.scale * bits / self.values

    def within_cap(self) -> bool:
        """Whether the table's codes, coded as stored, fit the cap now. Not the estimate: the cap's
        controller holds the estimate just above the cap, a few % over the coded bytes, and a model
        judged by it could keep only an early, barely trained checkpoint."""
        return self.cap_bytes <= 0 or self.coded_bytes() <= self.cap_bytes

    def coded_bytes(self) -> int:
        """Bytes of the rate-carrying tensors' codes (the table's) at the current weights, ANS-coded as
        a model file stores them (`ans_coded`)."""
        total = 0
        for module, name in self.done:
            quantizer = module.parametrizations[name][0]
            if quantizer.rate:
                runs = quantizer.runs.cpu()
                with torch.no_grad():
                    codes = codes_of(module.parametrizations[name].original.detach().cpu(), quantizer.steps().detach().cpu(), runs)
                total += len(ans_coded(codes, runs))
        return total

    def finish(self, model: nn.Module) -> None:
        """Plain parameters holding the stored values (see `bake`); a head trained in float rounded now."""
        bake(self.done)
        if self.head_step > 0:
            round_model(model, self.head_step, which="small")


def total_bits(done: list[tuple[nn.Module, str]]) -> torch.Tensor:
    """The bits of the codes the last forward pass used (0 without `rate`)."""
    return sum((module.parametrizations[name][0].bits for module, name in done), torch.zeros(()))


def bake(done: list[tuple[nn.Module, str]]) -> None:
    """Back to plain parameters holding exactly the stored values k * step, with each run's step and
    length as buffers `<name>_qstep` and `<name>_qruns` for `encode_state`."""
    for module, name in done:
        quantizer = module.parametrizations[name][0]
        with torch.no_grad():
            steps = quantizer.steps().detach().float().clone()
            codes = codes_of(module.parametrizations[name].original.detach(), steps, quantizer.runs)
        parametrize.remove_parametrizations(module, name, leave_parametrized=False)
        with torch.no_grad():
            getattr(module, name).copy_(decoded(codes, steps, quantizer.runs))
        module.register_buffer(name + STEP_SUFFIX, steps)
        module.register_buffer(name + RUNS_SUFFIX, quantizer.runs.clone())


def codes_of(values: torch.Tensor, steps: torch.Tensor, runs: torch.Tensor) -> torch.Tensor:
    """int64 codes (same shape) of values at each run's step."""
    step = torch.repeat_interleave(steps.float(), runs).view(values.shape)
    return (values.float() / step).clamp(-QMAX, QMAX).round().to(torch.int64)


def decoded(codes: torch.Tensor, steps: torch.Tensor, runs: torch.Tensor) -> torch.Tensor:
    """float32 values k * step (the same products in training, storage and loading)."""
    return codes.float() * torch.repeat_interleave(steps.float(), runs).view(codes.shape)


def code_groups(codes: torch.Tensor, runs: torch.Tensor) -> list[np.ndarray]:
    """The codes as the entropy coder's groups: for a table of F features whose runs are its levels
    (feature-major, the same for every feature), one (F, rows) group per level, so that a row's
    features are coded together; otherwise one group per run."""
    flat = codes.numpy()
    features = codes.shape[0] if codes.dim() == 2 else 0
    if features > 1 and len(runs) % features == 0:
        levels = runs.view(features, -1)
        if bool((levels == levels[0]).all()) and int(levels[0].sum()) == codes.shape[1]:
            return list(np.split(flat, np.cumsum(levels[0].numpy())[:-1], axis=1))
    return list(np.split(flat.reshape(-1), np.cumsum(runs.numpy())[:-1]))


def ans_coded(codes: torch.Tensor, runs: torch.Tensor) -> bytes:
    """The codes of a tensor with these runs, ANS-coded in `code_groups`' groups: what a model file stores."""
    return entropy.encode_groups(code_groups(codes, runs))
