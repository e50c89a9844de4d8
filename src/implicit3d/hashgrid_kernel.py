"""Compiled CPU kernels of the hash-grid encoding (numba): corner rows, trilinear weights, the
feature gather and, for training, the scatter of the gradient into the table, in one pass per
point and level.

The tensor path (`HashGridSDF.indices` plus `_GridInterp`) builds (L, 8, B) index and weight
tensors and runs a dozen passes over them; on a CPU that was about 60 % of a training step.
These loops compute the same rows and weights (`tests/test_hashgrid_kernel.py` checks them against
each other) without the intermediate tensors. They are compiled on first use and cached on disk
(`cache=True`), so later processes load them in well under a second.
"""

from __future__ import annotations

import numpy as np
import torch
from numba import njit

from .portable import _PRIMES

# The spatial hash's primes as the NumPy evaluator uses them: int64 products keep the low bits the mask keeps.
_P1, _P2 = np.int64(_PRIMES[1]), np.int64(_PRIMES[2])


@njit(cache=True, nogil=True, inline="always")
def _cell(coordinate, r):
    """The cell (clamped to the grid) and the offset in it of one coordinate at resolution r."""
    u = min(max((coordinate + np.float32(1.0)) * np.float32(0.5), np.float32(0.0)), np.float32(1.0))
    pos = u * np.float32(r)
    cell = min(np.int64(pos), np.int64(r - 1))
    return cell, pos - np.float32(cell)


@njit(cache=True, nogil=True, inline="always")
def _corners(x0, x1, x2, r, dense, base, keep, rows, weights, p):
    """Rows (`base`, the level's offset, included) and trilinear weights of the 8 corners around the
    point (x0, x1, x2) at a level of resolution r, into rows[corner, p] and weights[corner, p], in
    the corner order of `HashGridSDF.indices` (x outermost). dense: rows index the (r + 1)^3 vertices;
    else the spatial hash, masked by `keep`."""
    px, fx = _cell(x0, r)
    py, fy = _cell(x1, r)
    pz, fz = _cell(x2, r)
    side = np.int64(r + 1)
    corner = 0
    for cx in range(2):
        wx = fx if cx else np.float32(1.0) - fx
        for cy in range(2):
            wxy = wx * (fy if cy else np.float32(1.0) - fy)
            for cz in range(2):
                ix, iy, iz = px + cx, py + cy, pz + cz
                row = ix + (iy + iz * side) * side if dense else (ix ^ (iy * _P1) ^ (iz * _P2)) & keep
                rows[corner, p] = base + row
                weights[corner, p] = wxy * (fz if cz else np.float32(1.0) - fz)
                corner += 1


@njit(cache=True, nogil=True)
def _encode_or_scatter(x, res, n_dense, offset, mask, table, features_or_grad, grad_table, backward):
    """Forward (`backward` False): features_or_grad[b, l * F + f] = point b's interpolated feature f
    of level l, from `table`. Backward: features_or_grad holds the gradient of those features, and
    each is scattered into `grad_table` along the same corners and weights."""
    features = table.shape[0]
    rows = np.empty((8, 1), np.int64)
    weights = np.empty((8, 1), np.float32)
    for b in range(x.shape[0]):
        for level in range(res.shape[0]):
            _corners(x[b, 0], x[b, 1], x[b, 2], res[level], level < n_dense, np.int64(offset[level]), np.int64(mask[level]), rows, weights, 0)
            for feat in range(features):
                column = level * features + feat
                if backward:
                    g = features_or_grad[b, column]
                    for c in range(8):
                        grad_table[feat, rows[c, 0]] += weights[c, 0] * g
                else:
                    acc = np.float32(0.0)
                    for c in range(8):
                        acc += table[feat, rows[c, 0]] * weights[c, 0]
                    features_or_grad[b, column] = acc


class HashGridEncode(torch.autograd.Function):
    """Interpolated features (B, L * F) of points x (B, 3) from a feature-major table (F, R), and
    the table's gradient; x gets none (as in the tensor path, whose indices need no gradient)."""

    @staticmethod
    def forward(ctx, table, x, layout):
        xs = x.detach().contiguous()
        out = torch.empty(xs.shape[0], layout[0].shape[0] * table.shape[0], dtype=torch.float32)
        table_np = table.detach().numpy()
        _encode_or_scatter(xs.numpy(), *layout, table_np, out.numpy(), table_np, False)
        ctx.save_for_backward(xs)
        ctx.layout, ctx.table_shape = layout, table.shape
        return out

    @staticmethod
    def backward(ctx, grad_out):
        if not ctx.needs_input_grad[0]:  # a frozen table: nothing to scatter (x never gets a gradient here)
            return None, None, None
        (xs,) = ctx.saved_tensors
        grad = torch.zeros(ctx.table_shape, dtype=torch.float32)
        grad_np = grad.numpy()
        _encode_or_scatter(xs.numpy(), *ctx.layout, grad_np, grad_out.detach().contiguous().numpy(), grad_np, True)
        return grad, None, None


def usable(table: torch.Tensor, x: torch.Tensor) -> bool:
    """Whether the kernels apply: float32 tensors on the CPU (CUDA keeps the tensor path)."""
    return table.device.type == "cpu" and x.device.type == "cpu" and table.dtype == torch.float32 and x.dtype == torch.float32
