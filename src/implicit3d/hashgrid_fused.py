"""The hash grid's training step and inference as compiled CPU loops (numba), on tiles of 64
points: encoding, the ReLU head, the clamped L1 loss, the gradients back through the head, and
the scatter of the features' gradient into the table. The head's weight gradients, products over
the whole batch, stay with torch.

Why: under autograd a step runs two dozen small torch operations, and the head's matrix products
go through oneMKL, which `numerics` pins to its slow COMPATIBLE branch so that every x86-64 CPU
gives the same bits. These loops fix the order of every sum and numba compiles them without
fast-math (no fused multiply-add), so each vector lane does what a scalar loop would: the same bits
on any CPU. `tests/test_hashgrid_fused.py` checks the loss, every gradient and the inference
against torch's autograd path; `benchmarks/train_recipe.py` times both.
"""

from __future__ import annotations

import numpy as np
import torch
from numba import njit

from .hashgrid_kernel import _corners

TILE = 64  # points per tile: the head's loops run along a tile's points, contiguous


@njit(cache=True, nogil=True)
def _encode_tile(x, picks, start, n, res, n_dense, offset, mask, table, points, rows, corner_weights, inputs, include_xyz):
    """Features of points picks[start:start + n] into inputs (L * F [+ 3], TILE); keeps the points
    (3, TILE) and each level's corner rows and weights (L, 8, TILE) for the scatter. The loops run
    along the tile's points, level by level, so that they vectorize (gathers from the table)."""
    features = table.shape[0]
    levels = res.shape[0]
    for d in range(3):
        column = points[d]
        for p in range(n):
            column[p] = x[picks[start + p], d]
        for p in range(n, TILE):  # the tile's unused places: any point inside the grid
            column[p] = np.float32(0.0)
        if include_xyz:
            row = inputs[levels * features + d]
            for p in range(TILE):
                row[p] = column[p]
    for level in range(levels):
        r, dense = res[level], level < n_dense
        base, keep = np.int64(offset[level]), np.int64(mask[level])
        level_rows = rows[level]
        level_weights = corner_weights[level]
        for p in range(TILE):
            _corners(points[0, p], points[1, p], points[2, p], r, dense, base, keep, level_rows, level_weights, p)
        for feat in range(features):
            out = inputs[level * features + feat]
            values = table[feat]
            for p in range(TILE):
                acc = np.float32(0.0)
                for c in range(8):
                    acc += values[level_rows[c, p]] * level_weights[c, p]
                out[p] = acc


@njit(cache=True, nogil=True, inline="always")
def _tile_product(w, src, dst, transposed):
    """dst[d] += sum over s of A[d, s] src[s] along a tile's points, A being w (out, in) or, when
    transposed, its transpose; the sum runs over s in order. Rows of dst change in the inner loop
    over d, so consecutive updates never wait on each other."""
    n_dst, n_src = (w.shape[1], w.shape[0]) if transposed else (w.shape[0], w.shape[1])
    for s in range(n_src):
        column = src[s]
        for d in range(n_dst):
            a = w[s, d] if transposed else w[d, s]
            row = dst[d]
            for p in range(TILE):
                row[p] += a * column[p]


@njit(cache=True, nogil=True)
def _head_forward(acts, weights, biases):
    """acts[l + 1][:out] = relu(W_l acts[l][:in] + b_l) for a tile, the last layer without relu."""
    layers = len(weights)
    for layer in range(layers):
        w = weights[layer]
        bias = biases[layer]
        n_out, n_in = w.shape
        src = acts[layer]
        dst = acts[layer + 1]
        for j in range(n_out):
            out = dst[j]
            bj = bias[j]
            for p in range(TILE):
                out[p] = bj
        _tile_product(w, src, dst, False)
        if layer < layers - 1:
            for j in range(n_out):
                out = dst[j]
                for p in range(TILE):
                    if out[p] < np.float32(0.0):  # NaN stays NaN, as torch's relu keeps it (the loss must see divergence)
                        out[p] = np.float32(0.0)


@njit(cache=True, nogil=True, inline="always")
def _tile_scratch(weights, levels):
    """A tile's working arrays: each layer's activations (layers + 1, widest, TILE), the points
    (3, TILE), and each level's corner rows and weights (levels, 8, TILE)."""
    width = 0
    for w in weights:
        width = max(width, w.shape[0], w.shape[1])
    acts = np.zeros((len(weights) + 1, width, TILE), np.float32)
    points = np.empty((3, TILE), np.float32)
    rows = np.empty((levels, 8, TILE), np.int64)
    corner_weights = np.empty((levels, 8, TILE), np.float32)
    return acts, points, rows, corner_weights


@njit(cache=True, nogil=True)
def _predict(x, res, n_dense, offset, mask, table, weights, biases, include_xyz, out):
    acts, points, rows, corner_weights = _tile_scratch(weights, res.shape[0])
    picks = np.arange(x.shape[0])
    for start in range(0, x.shape[0], TILE):
        n = min(TILE, x.shape[0] - start)
        _encode_tile(x, picks, start, n, res, n_dense, offset, mask, table, points, rows, corner_weights, acts[0], include_xyz)
        _head_forward(acts, weights, biases)
        last = acts[len(weights), 0]
        for p in range(n):
            out[start + p] = last[p]


@njit(cache=True, nogil=True)
def _train_step(x, y, picks, clamp, res, n_dense, offset, mask, table, weights, biases, include_xyz, grad_table, layer_inputs, layer_deltas):
    """The clamped L1 loss (mean over the batch) of points x[picks] against y[picks]. Adds its
    gradient to grad_table (F, R) and leaves, for each layer l of the head, its inputs
    layer_inputs[l] (in, B) and the loss's gradient with respect to its outputs layer_deltas[l]
    (out, B): the weights' gradients are their products, which the caller takes."""
    layers = len(weights)
    features = table.shape[0]
    levels = res.shape[0]
    acts, points, rows, corner_weights = _tile_scratch(weights, levels)
    delta = np.zeros(acts.shape[1:], np.float32)
    back = np.zeros(acts.shape[1:], np.float32)
    scale = np.float32(1.0) / np.float32(picks.shape[0])
    total = 0.0
    for start in range(0, picks.shape[0], TILE):
        n = min(TILE, picks.shape[0] - start)
        _encode_tile(x, picks, start, n, res, n_dense, offset, mask, table, points, rows, corner_weights, acts[0], include_xyz)
        _head_forward(acts, weights, biases)
        pred = acts[layers, 0]
        for p in range(TILE):
            delta[0, p] = np.float32(0.0)
        for p in range(n):
            target = y[picks[start + p]]
            # DeepSDF's clamped L1, as training.sdf_loss: no loss beyond the band on the target's side.
            if (target >= clamp and pred[p] >= clamp) or (target <= -clamp and pred[p] <= -clamp):
                continue
            err = pred[p] - min(max(target, -clamp), clamp)
            total += abs(err)
            if err > np.float32(0.0):
                delta[0, p] = scale
            elif err < np.float32(0.0):
                delta[0, p] = -scale
        for layer in range(layers - 1, -1, -1):
            w = weights[layer]
            n_out, n_in = w.shape
            src = acts[layer]
            inputs = layer_inputs[layer]
            deltas = layer_deltas[layer]
            for k in range(n_in):
                for p in range(n):
                    inputs[k, start + p] = src[k, p]
            for j in range(n_out):
                for p in range(n):
                    deltas[j, start + p] = delta[j, p]
            for k in range(n_in):
                bk = back[k]
                for p in range(TILE):
                    bk[p] = np.float32(0.0)
            _tile_product(w, delta, back, True)
            if layer > 0:  # through the relu of the layer below
                for k in range(n_in):
                    column = src[k]
                    bk = back[k]
                    dk = delta[k]
                    for p in range(TILE):
                        dk[p] = bk[p] if column[p] > np.float32(0.0) else np.float32(0.0)
        for p in range(n):  # back[:L * F] holds the gradient of the features
            for level in range(levels):
                for feat in range(features):
                    g = back[level * features + feat, p]
                    for c in range(8):
                        grad_table[feat, rows[level, c, p]] += corner_weights[level, c, p] * g
    return total / picks.shape[0]


def usable(model, x: torch.Tensor) -> bool:
    """Whether these loops apply: a hash grid (it has `kernel_layout`) whose head is Linear and ReLU
    layers, float32 on the CPU."""
    if getattr(model, "kernel_layout", None) is None or x.device.type != "cpu" or x.dtype != torch.float32:
        return False
    return all(p.dtype == torch.float32 and p.device.type == "cpu" for p in model.parameters()) and all(
        isinstance(m, (torch.nn.Linear, torch.nn.ReLU)) for m in model.mlp
    )


def _head(values: list[torch.Tensor]) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    """The head layers' weights and biases as the loops take them, from `values` (as `weights` lists them)."""
    arrays = [np.ascontiguousarray(v.detach().numpy()) for v in values[1:]]
    return tuple(arrays[0::2]), tuple(arrays[1::2])


def predict(model, x: torch.Tensor) -> torch.Tensor:
    """The model's SDF (B,) at points x (B, 3), without autograd."""
    values = weights(model)
    layer_weights, biases = _head(values)
    xs = x.detach().contiguous()
    out = torch.empty(xs.shape[0], dtype=torch.float32)
    _predict(xs.numpy(), *model.kernel_layout, values[0].detach().numpy(), layer_weights, biases, model.include_xyz, out.numpy())
    return out


def weights(model) -> list[torch.Tensor]:
    """The tensors the loops compute with: the table, then each head layer's weight and bias. Under
    a parametrization (learned steps) they are its values, with autograd's graph back to the
    parameters; read them once per step, inside `torch.nn.utils.parametrize.cached()`."""
    linears = [m for m in model.mlp if isinstance(m, torch.nn.Linear)]
    return [model.table, *(t for m in linears for t in (m.weight, m.bias))]


def gradients(model, values: list[torch.Tensor], x: torch.Tensor, y: torch.Tensor, picks: torch.Tensor, clamp: float) -> tuple[float, list[torch.Tensor]]:
    """The clamped L1 loss of the batch x[picks] under the tensors `values` (as `weights` lists
    them), and its gradient with respect to each."""
    table = values[0].detach()
    layer_weights, biases = _head(values)
    batch = picks.shape[0]
    grad_table = torch.zeros_like(table)
    inputs = tuple(torch.empty(w.shape[1], batch) for w in layer_weights)
    deltas = tuple(torch.empty(w.shape[0], batch) for w in layer_weights)
    loss = _train_step(
        x.numpy(), y.numpy(), picks.numpy(), np.float32(clamp), *model.kernel_layout, table.numpy(), layer_weights, biases,
        model.include_xyz, grad_table.numpy(), tuple(a.numpy() for a in inputs), tuple(d.numpy() for d in deltas),
    )  # fmt: skip
    grads = [grad_table]
    for a, d in zip(inputs, deltas, strict=True):
        grads += [torch.mm(d, a.t()), d.sum(1)]
    return float(loss), grads


def train_step(model, x: torch.Tensor, y: torch.Tensor, picks: torch.Tensor, clamp: float) -> float:
    """The clamped L1 loss of the batch x[picks] and its gradients, left in each parameter's .grad
    (as loss.backward() would after zero_grad(set_to_none=True)). Parameters without a
    parametrization only: `training` carries the gradients through one with autograd."""
    values = weights(model)
    loss, grads = gradients(model, values, x, y, picks, clamp)
    for value, grad in zip(values, grads, strict=True):
        value.grad = grad
    return loss
