"""Training loop for one SDF model: losses, LR schedule, early stopping on a
validation split, NaN detection with one retry, and checkpoint I/O."""

from __future__ import annotations

import copy
import logging
import math
import os
import time
from dataclasses import asdict, dataclass, field, fields

import numpy as np
import torch
from torch.nn.utils import parametrize
from tqdm.auto import tqdm

from . import hashgrid_fused, learned_step
from .errors import TrainingError
from .io import atomic_path
from .models import build_model
from .quantize import decode_state, encode_state, fake_quantize, remove_fake_quantize, stored_bytes

LOSSES = ("l1_clamp", "mse", "mape")
MIN_OOM_BATCH = 256  # below this, out-of-memory is not about the batch: fail instead of halving
log = logging.getLogger("implicit3d")


@dataclass
class TrainConfig:
    steps: int = 2000
    batch_size: int = 8192
    lr: float = 1e-2
    lr_schedule: str = "cosine"  # cosine | linear | constant
    table_lr_scale: float = 1.0  # the hash tables' lr as a multiple of lr (the MLP head keeps lr)
    loss: str = "l1_clamp"
    clamp: float = 0.1
    eikonal_weight: float = 0.0
    weight_decay: float = 0.0
    val_every: int = 250
    near_fraction: float = 0.0  # share of each batch drawn from near-surface points; 0 = uniform over all
    patience: int = 0  # validation checks without improvement before stopping; 0 = never stop early
    weight_dtype: str = "float32"  # float32 | float16 | int8 | int6 | int5 | int4 (large tensors as block-scaled codes) | learned_step (codes with learned steps): how the weights are stored
    weight_coding: str = "none"  # none | lzma | ans: the integer codes compressed losslessly
    qat: bool = False  # quantization-aware: train on the values that weight_dtype will store (straight-through rounding); learned_step always is
    rate_weight: float = 0.0  # learned_step: weight of the table codes' estimated bits per value in the loss (trades size for loss)
    rate_cap_bytes: float = 0.0  # learned_step: the rate weight grows while the table codes' estimated bytes exceed this, and only checkpoints whose coded table fits are kept (0: no cap)
    head_step: float = 0.0  # learned_step: 0 trains the small tensors (the MLP head) on rounded values too; > 0 trains them in float and rounds them at the end, each with a step of this share of its values' root mean square
    compiled: bool = True  # a hash grid on a CPU with l1_clamp: the compiled step (hashgrid_fused); false: torch's autograd, the same gradients
    seed: int = 0
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        known = {f.name for f in fields(cls)} - {"extra"}
        cfg = cls(**{k: v for k, v in data.items() if k in known})
        cfg.extra = {k: v for k, v in data.items() if k not in known}
        return cfg


@dataclass
class TrainResult:
    steps: int
    seconds: float
    best_step: int
    best_val_loss: float
    final_loss: float
    lr: float
    retried: bool = False
    history: list = field(default_factory=list)
    batch_size: int = 0  # the batch size in use at the end: smaller than configured after CUDA OOM

    @property
    def step_ms(self) -> float:
        return 1000.0 * self.seconds / max(self.steps, 1)


def resolve_device(name: str = "auto") -> torch.device:
    """'auto' picks CUDA when present, else the CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        from .devices import device_problem

        raise TrainingError(device_problem(name) or f"device: cuda, but torch {torch.__version__} (CUDA {torch.version.cuda}) sees no GPU here: run on a GPU node or set device: cpu")
    return torch.device(name)


def sdf_loss(pred: torch.Tensor, target: torch.Tensor, kind: str, clamp: float) -> torch.Tensor:
    if kind == "l1_clamp":
        # DeepSDF's clamped L1, written so that a prediction beyond the band on the
        # wrong side still gets a gradient (clamping `pred` itself would zero it).
        same_side_beyond = ((target >= clamp) & (pred >= clamp)) | ((target <= -clamp) & (pred <= -clamp))
        err = (pred - target.clamp(-clamp, clamp)).abs()
        return torch.where(same_side_beyond, torch.zeros_like(err), err).mean()
    if kind == "mse":
        return (pred - target).pow(2).mean()
    if kind == "mape":
        return ((pred - target).abs() / (target.abs() + 1e-2)).mean()
    raise ValueError(f"unknown loss '{kind}' (choose from {', '.join(LOSSES)})")


def float_tensor(values, device: torch.device | str = "cpu") -> torch.Tensor:
    """A float32 tensor on `device` from a copy of `values`: pandas (copy-on-write) hands
    out read-only arrays, which torch warns about when it shares their memory. Row-major: a
    DataFrame's columns come column-major, and gathering random rows of that touched three cache
    lines per point (a training step's batch took 5x longer)."""
    return torch.from_numpy(np.array(values, dtype=np.float32, order="C")).to(device)


def train(
    model: torch.nn.Module,
    train_xyz: np.ndarray,
    train_sdf: np.ndarray,
    val_xyz: np.ndarray,
    val_sdf: np.ndarray,
    cfg: TrainConfig,
    device: torch.device,
    progress: bool = True,
    desc: str = "train",
    near_mask: np.ndarray | None = None,
) -> TrainResult:
    """Fit `model` in place; keeps the weights with the best validation loss.

    `near_mask` marks the near-surface training points, for `cfg.near_fraction`.
    """
    torch.manual_seed(cfg.seed)
    gen = torch.Generator(device="cpu").manual_seed(cfg.seed)
    model.to(device).train()
    quant = learned_step.Training(model, cfg.rate_weight, cfg.head_step, cfg.rate_cap_bytes) if cfg.weight_dtype == "learned_step" else None
    rounded = fake_quantize(model, cfg.weight_dtype) if cfg.qat and quant is None else []
    penalty = quant.penalty if quant is not None else None  # the rate term, added to each step's loss
    x, y, vx, vy = (float_tensor(a, device) for a in (train_xyz, train_sdf, val_xyz, val_sdf))
    # Fused: one pass over each tensor instead of a dozen (0.3-0.5 ms of a 4 ms hash-grid step on a CPU).
    fused = device.type in ("cpu", "cuda")
    opt = torch.optim.Adam(param_groups(model, cfg), lr=cfg.lr, betas=(0.9, 0.99), eps=1e-15, weight_decay=cfg.weight_decay, fused=fused)
    sched = lr_scheduler(opt, cfg)
    best = (math.inf, 0, copy.deepcopy(model.state_dict()))
    stale, history, loss_value = 0, [], math.nan
    over_cap = (math.inf, 0)  # the best checkpoint left out for its table's size
    start = time.perf_counter()
    bar = tqdm(range(1, cfg.steps + 1), desc=desc, disable=not progress, mininterval=1.0, leave=False)
    step = 0
    batch = min(cfg.batch_size, x.shape[0])
    sampler = BatchSampler(near_mask, x.shape[0], cfg.near_fraction, gen)
    # The compiled step (hashgrid_fused) where it computes this loss: the same gradients as autograd's, faster on a CPU.
    compiled = cfg.compiled and not rounded and cfg.loss == "l1_clamp" and cfg.eikonal_weight <= 0 and hashgrid_fused.usable(model, x)
    for step in bar:
        if compiled:
            loss_value = _compiled_step(model, opt, x, y, sampler(batch), cfg, step, penalty)
        else:
            loss_value, batch = _optimizer_step(model, opt, x, y, batch, sampler, cfg, step, penalty)
        sched.step()
        if step % cfg.val_every == 0 or step == cfg.steps:
            val = evaluate_loss(model, vx, vy, cfg)
            history.append({"step": step, "loss": loss_value, "val_loss": val})
            bar.set_postfix(loss=f"{loss_value:.2e}", val=f"{val:.2e}")
            if val < best[0] and (quant is None or quant.within_cap()):
                best, stale = (val, step, copy.deepcopy(model.state_dict())), 0
            else:
                if val < min(best[0], over_cap[0]):
                    over_cap = (val, step)
                stale += 1
                if cfg.patience and stale >= cfg.patience:
                    break
    seconds = time.perf_counter() - start
    if best[1] == 0 and quant is not None and history:  # never within the cap: the last weights, the smallest
        log.warning("%s: the table stayed above rate_cap_bytes (coded %d bytes); keeping the last weights", desc, quant.coded_bytes())
        best = (history[-1]["val_loss"], history[-1]["step"], model.state_dict())
    elif over_cap[0] < best[0]:
        log.warning("%s: kept step %d (validation loss %.3g), the best whose table fits rate_cap_bytes; step %d had %.3g with a larger table",
                    desc, best[1], best[0], over_cap[1], over_cap[0])  # fmt: skip
    model.load_state_dict(best[2])
    remove_fake_quantize(rounded)
    if quant is not None:
        quant.finish(model)
    return TrainResult(step, seconds, best[1], best[0], loss_value, cfg.lr, history=history, batch_size=batch)


def train_with_retry(model_factory, *args, cfg: TrainConfig, **kwargs) -> tuple[torch.nn.Module, TrainResult]:
    """Train; on a non-finite loss retry once from scratch with a 10x lower LR, then fail clearly."""
    try:
        model = model_factory()
        return model, train(model, *args, cfg=cfg, **kwargs)
    except FloatingPointError as first:
        retry = copy.copy(cfg)
        retry.lr = cfg.lr / 10.0
        try:
            model = model_factory()
            result = train(model, *args, cfg=retry, **kwargs)
        except FloatingPointError as second:
            raise TrainingError(f"training diverged ({first}); retry with lr={retry.lr:g} also diverged ({second})") from None
        result.retried = True
        return model, result


class BatchSampler:
    """Random batch indices, optionally with a fixed share of near-surface points.

    The near-surface points decide the F1 near the surface, yet the volume points keep
    the far field right; a fixed mix keeps both in every step whatever the pool sizes.
    """

    def __init__(self, near_mask: np.ndarray | None, count: int, near_fraction: float, gen: torch.Generator):
        self.count, self.gen, self.fraction = count, gen, near_fraction
        self.near = self.far = None
        if near_mask is not None and 0 < near_fraction < 1:
            mask = torch.from_numpy(np.array(near_mask, dtype=bool))  # a copy: Parquet columns are read-only
            near, far = torch.nonzero(mask).squeeze(1), torch.nonzero(~mask).squeeze(1)
            if len(near) and len(far):
                self.near, self.far = near, far

    def __call__(self, batch: int) -> torch.Tensor:
        if self.near is None:
            return torch.randint(0, self.count, (batch,), generator=self.gen)
        n_near = int(round(batch * self.fraction))
        pick_near = self.near[torch.randint(0, len(self.near), (n_near,), generator=self.gen)]
        pick_far = self.far[torch.randint(0, len(self.far), (batch - n_near,), generator=self.gen)]
        return torch.cat([pick_near, pick_far])


def _optimizer_step(model, opt, x, y, batch: int, sampler: BatchSampler, cfg: TrainConfig, step: int, penalty=None) -> tuple[float, int]:
    """One optimizer step; returns the loss and the batch size to go on with.

    On CUDA out-of-memory the step is redone with half the batch (down to MIN_OOM_BATCH),
    and training goes on at that size, so a model that only just does not fit still trains.
    """
    while True:
        idx = sampler(batch).to(x.device)
        loss = None
        try:
            # index_select: the same rows as x[idx], without advanced indexing's overhead (~0.2 ms a step on a CPU)
            loss = _step_loss(model, x.index_select(0, idx), y.index_select(0, idx), cfg)
            if penalty is not None:
                loss = loss + penalty()
            loss_value = _finite(loss.item(), step)
            opt.zero_grad(set_to_none=True)
            loss.backward()
        except torch.cuda.OutOfMemoryError:
            pass  # freed below, outside the handler, whose traceback still holds the tensors
        else:
            opt.step()
            return loss_value, batch
        del loss
        opt.zero_grad(set_to_none=True)
        if x.device.type == "cuda":
            torch.cuda.empty_cache()
        if batch <= MIN_OOM_BATCH:
            raise TrainingError(f"out of GPU memory even at batch size {batch} (use device: cpu or a smaller model)")
        log.warning("CUDA out of memory at batch size %d (step %d): retrying with %d", batch, step, batch // 2)
        batch //= 2


def _compiled_step(model, opt, x, y, idx, cfg: TrainConfig, step: int, penalty=None) -> float:
    """One optimizer step with the compiled loops. Under learned steps (`penalty`, the rate term)
    the loops take the parametrizations' values, and autograd carries the loss's gradients with
    respect to those, and the rate term's, on to the parameters and the steps."""
    if penalty is None:
        loss_value = _finite(hashgrid_fused.train_step(model, x, y, idx, cfg.clamp), step)
    else:
        opt.zero_grad(set_to_none=True)
        with parametrize.cached():
            values = hashgrid_fused.weights(model)
            loss_value, grads = hashgrid_fused.gradients(model, values, x, y, idx, cfg.clamp)
            rate = penalty()  # the bits of the values just quantized
        if isinstance(rate, torch.Tensor):
            loss_value += float(rate.detach())
            if rate.requires_grad:  # no tensor large enough for a rate: a constant
                values, grads = [*values, rate], [*grads, torch.ones_like(rate)]
        loss_value = _finite(loss_value, step)
        torch.autograd.backward(values, grads)
    opt.step()
    return loss_value


def _finite(loss_value: float, step: int) -> float:
    """The step's loss, or FloatingPointError when it is not finite (train_with_retry retries then)."""
    if not math.isfinite(loss_value):
        raise FloatingPointError(f"loss became {loss_value} at step {step}")
    return loss_value


def _step_loss(model: torch.nn.Module, xb: torch.Tensor, yb: torch.Tensor, cfg: TrainConfig) -> torch.Tensor:
    if cfg.eikonal_weight <= 0:
        return sdf_loss(model(xb), yb, cfg.loss, cfg.clamp)
    xb = xb.clone().requires_grad_(True)
    pred = model(xb)
    (grad,) = torch.autograd.grad(pred.sum(), xb, create_graph=True)
    eikonal = (grad.norm(dim=-1) - 1.0).pow(2).mean()
    return sdf_loss(pred, yb, cfg.loss, cfg.clamp) + cfg.eikonal_weight * eikonal


@torch.no_grad()
def evaluate_loss(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, cfg: TrainConfig) -> float:
    model.eval()
    pred = predict(model, x)
    model.train()
    return float(sdf_loss(pred, y, cfg.loss, cfg.clamp))


@torch.no_grad()
def predict(model: torch.nn.Module, x: torch.Tensor, batch: int = 65536) -> torch.Tensor:
    return torch.cat([model(x[i : i + batch]) for i in range(0, x.shape[0], batch)]) if len(x) else x[:, 0]


def param_groups(model: torch.nn.Module, cfg: TrainConfig) -> list[dict]:
    """The optimizer's parameter groups: with `table_lr_scale`, the hash tables (parameters named
    `table`) in a group of their own at that multiple of lr; sparse rows tolerate larger steps than the head."""
    if cfg.table_lr_scale == 1.0:
        return [{"params": list(model.parameters())}]
    named = list(model.named_parameters())
    table = [p for name, p in named if _is_table(name)]
    if not table:
        raise ValueError(f"table_lr_scale: {type(model).__name__} has no hash table (parameters named 'table'); keep table_lr_scale at 1")
    rest = [p for name, p in named if not _is_table(name)]
    return [{"params": table, "lr": cfg.lr * cfg.table_lr_scale}, {"params": rest}]


def _is_table(name: str) -> bool:
    """A hash table's values: `table`, or under a parametrization (learned_step, QAT) its `original`."""
    return name.rsplit(".", 1)[-1] == "table" or name.endswith("parametrizations.table.original")


def lr_scheduler(opt: torch.optim.Optimizer, cfg: TrainConfig):
    if cfg.lr_schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.steps, eta_min=cfg.lr * 0.01)
    if cfg.lr_schedule == "linear":
        return torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1.0 - 0.99 * min(step, cfg.steps) / cfg.steps)
    if cfg.lr_schedule == "constant":
        return torch.optim.lr_scheduler.LambdaLR(opt, lambda _: 1.0)
    raise ValueError(f"unknown lr_schedule '{cfg.lr_schedule}' (choose from cosine, linear, constant)")


def save_model(path: str | os.PathLike, model: torch.nn.Module, arch: str, hparams: dict, weight_dtype: str, weight_coding: str = "none") -> int:
    """Save the weights in `weight_dtype`, integer codes compressed with `weight_coding` (see `quantize`);
    returns their stored size in bytes."""
    state = encode_state(model.state_dict(), weight_dtype, weight_coding)
    with atomic_path(path) as tmp:
        torch.save({"arch": arch, "hparams": hparams, "weight_dtype": weight_dtype, "weight_coding": weight_coding, "state_dict": state}, tmp)
    return stored_bytes(state)


def load_model(path: str | os.PathLike, device: torch.device | str = "cpu") -> tuple[torch.nn.Module, dict]:
    """Rebuild a saved model in float32 from its stored (possibly fp16-rounded or int8) weights."""
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    model = build_model(ckpt["arch"], **ckpt["hparams"])
    model.load_state_dict(decode_state(ckpt["state_dict"]))
    info = {k: v for k, v in ckpt.items() if k != "state_dict"}
    info["model_bytes"] = stored_bytes(ckpt["state_dict"])
    return model.to(device).eval(), info


def config_dict(cfg: TrainConfig) -> dict:
    return asdict(cfg)
