"""SDF network architectures: DeepSDF-style MLP, SIREN, Fourier-feature MLP and a
multiresolution hash-grid encoding with a tiny MLP head (Instant-NGP style).
`grid`, a dense grid of SDF values without a network, is the non-neural control.

All take points (B, 3) in the normalized frame and return SDF (B,).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from . import hashgrid_fused, hashgrid_kernel

ARCHITECTURES = ("mlp", "siren", "fourier", "hashgrid", "grid")


class DeepSDFMLP(nn.Module):
    """ReLU MLP with weight norm and one skip connection that re-injects the input."""

    def __init__(self, hidden: int = 128, layers: int = 6, skip: int | None = 3, softplus_beta: float = 0.0):
        super().__init__()
        self.skip = skip
        self.layers = nn.ModuleList()
        width_in = 3
        for i in range(layers):
            if i == skip:
                width_in += 3
            self.layers.append(nn.utils.parametrizations.weight_norm(nn.Linear(width_in, hidden)))
            width_in = hidden
        self.out = nn.Linear(hidden, 1)
        self.act = nn.Softplus(beta=softplus_beta) if softplus_beta > 0 else nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        for i, layer in enumerate(self.layers):
            if i == self.skip:
                h = torch.cat([h, x], dim=-1)
            h = self.act(layer(h))
        return self.out(h).squeeze(-1)


class SineLayer(nn.Module):
    def __init__(self, width_in: int, width_out: int, w0: float, first: bool):
        super().__init__()
        self.w0 = w0
        self.linear = nn.Linear(width_in, width_out)
        bound = 1.0 / width_in if first else math.sqrt(6.0 / width_in) / w0  # SIREN init
        nn.init.uniform_(self.linear.weight, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sin(self.w0 * self.linear(x))


class Siren(nn.Module):
    """Sinusoidal representation network (Sitzmann et al. 2020)."""

    def __init__(self, hidden: int = 128, layers: int = 3, w0: float = 30.0):
        super().__init__()
        blocks = [SineLayer(3, hidden, w0, first=True)]
        blocks += [SineLayer(hidden, hidden, w0, first=False) for _ in range(layers - 1)]
        self.body = nn.Sequential(*blocks)
        self.out = nn.Linear(hidden, 1)
        bound = math.sqrt(6.0 / hidden) / w0
        nn.init.uniform_(self.out.weight, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.body(x)).squeeze(-1)


class FourierMLP(nn.Module):
    """MLP on random Fourier features of the input (Tancik et al. 2020)."""

    def __init__(self, hidden: int = 128, layers: int = 3, features: int = 64, sigma: float = 4.0, seed: int = 0):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.register_buffer("basis", torch.randn(3, features, generator=gen) * sigma)
        mods: list[nn.Module] = []
        width_in = 2 * features + 3
        for _ in range(layers):
            mods += [nn.Linear(width_in, hidden), nn.ReLU()]
            width_in = hidden
        mods.append(nn.Linear(width_in, 1))
        self.mlp = nn.Sequential(*mods)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        proj = 2 * math.pi * x @ self.basis
        return self.mlp(torch.cat([x, torch.sin(proj), torch.cos(proj)], dim=-1)).squeeze(-1)


# Spatial-hash primes (Teschner et al.); 2654435761 is used as its wrapped int32 value,
# whose low bits, the only ones the table index keeps, are identical.
_PRIMES = (1, 2654435761 - 2**32, 805459861)


class _GridInterp(torch.autograd.Function):
    """out[l, b, f] = sum_c w[l, c, b] * table[f, idx[l, c, b]] for a feature-major table (F, R).

    The tensor path of the encoding (CUDA, and the reference the CPU kernels of `hashgrid_kernel`
    are tested against). Hand-written because the generic gather's backward (a scatter over a
    (B, L, 8, F) tensor) was several times slower than 1-D index_select / index_add_ per feature.
    """

    @staticmethod
    def forward(ctx, table, idx, w):
        levels, corners, batch = idx.shape
        flat = idx.reshape(-1).long()
        out = [(table[f].index_select(0, flat).view(levels, corners, batch) * w).sum(1) for f in range(table.shape[0])]
        ctx.save_for_backward(flat, w)
        ctx.rows = table.shape[1]
        return torch.stack(out, -1)  # (L, B, F)

    @staticmethod
    def backward(ctx, grad_out):
        flat, w = ctx.saved_tensors
        grad = torch.zeros(grad_out.shape[-1], ctx.rows, dtype=grad_out.dtype, device=grad_out.device)
        for f in range(grad_out.shape[-1]):
            grad[f].index_add_(0, flat, (w * grad_out[:, :, f].unsqueeze(1)).reshape(-1))
        return grad, None, None


class _BitwiseXor(torch.autograd.Function):
    """a ^ b of integer tensors, which the TorchScript ONNX exporter writes as BitwiseXor (opset 18):
    its own translation of `^` takes booleans only. Used by the export path only."""

    @staticmethod
    def forward(ctx, a, b):
        return a ^ b

    @staticmethod
    def symbolic(g, a, b):
        return g.op("BitwiseXor", a, b)


def hash_layout(levels: int, log2_table: int | list[int], base_resolution: int, max_resolution: int) -> tuple[list[int], list[int], int]:
    """Per level: the grid resolution and the table rows (2^log2_table, one value for every level
    or one per level); and how many leading levels fit their rows densely (no hashing)."""
    log2 = [int(log2_table)] * levels if isinstance(log2_table, int | float) else [int(v) for v in log2_table]
    if len(log2) != levels:
        raise ValueError(f"log2_table lists {len(log2)} values for {levels} levels")
    growth = (max_resolution / base_resolution) ** (1.0 / max(levels - 1, 1))
    res = [int(math.floor(base_resolution * growth**level)) for level in range(levels)]
    rows = [2**b for b in log2]
    n_dense = 0
    while n_dense < levels and (res[n_dense] + 1) ** 3 <= rows[n_dense]:
        n_dense += 1
    return res, rows, n_dense


class HashGridSDF(nn.Module):
    """Multiresolution grid of learned features (Instant-NGP style) with a tiny ReLU MLP head.

    Level l has resolution floor(base * growth^l), growing geometrically up to
    `max_resolution` cells across [-1, 1]^3. Each level has 2^log2_table rows (`log2_table`:
    one value for all levels, or a list with one per level, e.g. more rows for the finest).
    Coarse levels whose (N+1)^3 vertices fit in their rows are stored densely (no
    collisions); finer ones use a spatial hash. Features of the 8 cell corners are trilinearly interpolated:
    on a CPU by compiled kernels (`hashgrid_kernel`), elsewhere from index tensors laid out (L, 8, B),
    batch innermost.
    """

    def __init__(
        self,
        levels: int = 12,
        features: int = 2,
        log2_table: int | list[int] = 12,
        base_resolution: int = 16,
        max_resolution: int = 128,
        hidden: int = 32,
        layers: int = 2,
        include_xyz: bool = True,
        init_scale: float = 1e-4,
    ):
        super().__init__()
        self.levels, self.features = levels, features
        res, rows, self.n_dense = hash_layout(levels, log2_table, base_resolution, max_resolution)
        sizes = [(r + 1) ** 3 if level < self.n_dense else n for level, (r, n) in enumerate(zip(res, rows, strict=True))]
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        r1 = torch.tensor(res, dtype=torch.int32) + 1
        # Non-persistent: derived from the hyperparameters, so not stored with the weights.
        self.register_buffer("resolution", torch.tensor(res, dtype=torch.float32), persistent=False)
        self.register_buffer("max_corner", torch.tensor(res, dtype=torch.int32) - 1, persistent=False)
        self.register_buffer("offset", torch.tensor(offsets, dtype=torch.int32), persistent=False)
        self.register_buffer("stride", torch.stack([torch.ones_like(r1), r1, r1 * r1], 1), persistent=False)
        self.register_buffer("hash_mask", torch.tensor(rows, dtype=torch.int32) - 1, persistent=False)
        # The same layout for the compiled CPU kernels (hashgrid_kernel): resolutions, dense levels, offsets, masks.
        self.kernel_layout = (np.array(res, np.int64), self.n_dense, offsets.astype(np.int64), np.array(rows, np.int64) - 1)
        self.level_rows = sizes
        self.table = nn.Parameter(torch.empty(features, int(sum(sizes))).uniform_(-init_scale, init_scale))
        self.include_xyz = include_xyz
        width_in = levels * features + (3 if include_xyz else 0)
        mods: list[nn.Module] = []
        for _ in range(layers):
            mods += [nn.Linear(width_in, hidden), nn.ReLU()]
            width_in = hidden
        mods.append(nn.Linear(width_in, 1))
        self.mlp = nn.Sequential(*mods)
        with torch.no_grad():  # start near sdf = 0, inside every loss's useful band
            self.mlp[-1].bias.zero_()
            self.mlp[-1].weight.mul_(0.1)

    def quant_runs(self, name: str) -> list[int]:
        """Contiguous runs of a parameter's flattened values that share a quantization step: the
        table's rows of one level and feature (it is feature-major); any other parameter is one run."""
        if name == "table":
            return list(self.level_rows) * self.features
        return [getattr(self, name).numel()]

    def indices(self, x: torch.Tensor, wide: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """Table rows (L, 8, B) int32 and trilinear weights (L, 8, B) for points x (B, 3).

        wide: int64 rows from operations that ONNX can express (the export path), the same values.
        """
        levels, nd, batch = self.levels, self.n_dense, x.shape[0]
        itype = torch.int64 if wide else torch.int32  # .to() is a no-op on the int32 buffers otherwise
        u = ((x.t() + 1.0) * 0.5).clamp(0.0, 1.0)  # (3, B) in [0, 1]
        pos = u.unsqueeze(0) * self.resolution.view(-1, 1, 1)  # (L, 3, B)
        p0 = torch.minimum(pos.to(itype), self.max_corner.view(-1, 1, 1).to(itype))  # floor, as pos >= 0
        frac = pos - p0
        parts = []
        if nd:
            s = self.stride[:nd].view(nd, 3, 1).to(itype)
            a0 = p0[:nd] * s
            a1 = a0 + s
            rows = (
                torch.stack([a0[:, 0], a1[:, 0]], 1).view(nd, 2, 1, 1, batch)
                + torch.stack([a0[:, 1], a1[:, 1]], 1).view(nd, 1, 2, 1, batch)
                + torch.stack([a0[:, 2], a1[:, 2]], 1).view(nd, 1, 1, 2, batch)
            )
            parts.append(rows.view(nd, 8, batch))
        if nd < levels:
            nh, q0 = levels - nd, p0[nd:]
            hx = torch.stack([q0[:, 0], q0[:, 0] + 1], 1)
            hy = q0[:, 1] * _PRIMES[1]
            hy = torch.stack([hy, hy + _PRIMES[1]], 1)
            hz = q0[:, 2] * _PRIMES[2]
            hz = torch.stack([hz, hz + _PRIMES[2]], 1)
            # In int64 the prime products do not wrap, but the low bits that the mask keeps are the same.
            xor = _BitwiseXor.apply if wide else torch.bitwise_xor
            rows = xor(xor(hx.view(nh, 2, 1, 1, batch), hy.view(nh, 1, 2, 1, batch)), hz.view(nh, 1, 1, 2, batch)) & self.hash_mask[nd:].view(nh, 1, 1, 1, 1).to(itype)
            parts.append(rows.view(nh, 8, batch))
        idx = torch.cat(parts, 0) + self.offset.view(-1, 1, 1).to(itype)
        f0, f1, f2 = frac[:, 0], frac[:, 1], frac[:, 2]
        w = (
            torch.stack([1 - f0, f0], 1).view(levels, 2, 1, 1, batch)
            * torch.stack([1 - f1, f1], 1).view(levels, 1, 2, 1, batch)
            * torch.stack([1 - f2, f2], 1).view(levels, 1, 1, 2, batch)
        ).view(levels, 8, batch)
        return idx, w

    def encode(self, x: torch.Tensor, portable: bool = False) -> torch.Tensor:
        """Interpolated features of every level (B, L * F), then x when `include_xyz`.

        On the CPU the compiled kernels (`hashgrid_kernel`) compute it; elsewhere the tensor path.
        portable: a plain gather over int64 rows in place of either (whose fast backward ONNX cannot
        express), for `implicit3d export`; the same values up to summation order.
        """
        table = self.table  # once: under quantization-aware training each read rounds it afresh
        if not portable and hashgrid_kernel.usable(table, x):
            feats = hashgrid_kernel.HashGridEncode.apply(table, x, self.kernel_layout)
        else:
            with torch.no_grad():
                idx, w = self.indices(x, wide=portable)
            if portable:
                picked = table.index_select(1, idx.reshape(-1)).view(self.features, self.levels, 8, -1)  # (F, L, 8, B)
                feats = (picked * w).sum(2).permute(2, 1, 0).reshape(-1, self.levels * self.features)
            else:
                feats = _GridInterp.apply(table, idx, w).permute(1, 0, 2).reshape(x.shape[0], -1)
        return torch.cat([feats, x], 1) if self.include_xyz else feats

    def forward(self, x: torch.Tensor, portable: bool = False) -> torch.Tensor:
        if not portable and not torch.is_grad_enabled() and hashgrid_fused.usable(self, x):
            return hashgrid_fused.predict(self, x)  # inference on a CPU: the compiled loops, no autograd
        return self.mlp(self.encode(x, portable)).squeeze(-1)


class DenseGridSDF(nn.Module):
    """Non-neural control: one learned SDF value per vertex of a dense grid, trilinearly interpolated.

    `resolution` R cells per axis span [-1, 1]^3 (the normalized frame; points outside are
    clamped onto it), so the grid holds (R+1)^3 values in one tensor `grid`, indexed
    [z, y, x], which the integer storage formats block-quantize like a hash table. Every
    value starts at `init` (positive: outside), so vertices that no training point reaches,
    such as the cube's corners outside the unit sphere, read as outside.
    """

    def __init__(self, resolution: int = 49, init: float = 0.1):
        super().__init__()
        if int(resolution) < 1:
            raise ValueError(f"grid resolution must be at least 1, got {resolution}")
        self.resolution = int(resolution)
        n = self.resolution + 1
        self.grid = nn.Parameter(torch.full((n, n, n), float(init)))
        self.register_buffer("stride", torch.tensor([1, n, n * n], dtype=torch.int32).view(3, 1), persistent=False)

    def indices(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Flat indices into `grid` (8, B) int32 and trilinear weights (8, B) for points x (B, 3)."""
        batch = x.shape[0]
        pos = ((x.t() + 1.0) * (0.5 * self.resolution)).clamp(0.0, float(self.resolution))  # (3, B)
        p0 = pos.to(torch.int32).clamp_max(self.resolution - 1)  # floor, as pos >= 0
        frac = pos - p0
        a0 = p0 * self.stride
        a1 = a0 + self.stride
        idx = (
            torch.stack([a0[0], a1[0]]).view(2, 1, 1, batch)
            + torch.stack([a0[1], a1[1]]).view(1, 2, 1, batch)
            + torch.stack([a0[2], a1[2]]).view(1, 1, 2, batch)
        ).view(8, batch)
        f0, f1, f2 = frac
        w = (
            torch.stack([1 - f0, f0]).view(2, 1, 1, batch)
            * torch.stack([1 - f1, f1]).view(1, 2, 1, batch)
            * torch.stack([1 - f2, f2]).view(1, 1, 2, batch)
        ).view(8, batch)
        return idx, w

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.is_grad_enabled() and not x.requires_grad:
            # Training step: _GridInterp's backward is the fastest here on a CPU (0.67 against
            # grid_sample's 0.89 ms forward + backward for 8192 points at R = 63, one thread).
            with torch.no_grad():
                idx, w = self.indices(x)
            return _GridInterp.apply(self.grid.view(1, -1), idx.unsqueeze(0), w.unsqueeze(0)).view(-1)
        # Inference (0.28 against 0.40 ms), and gradients with respect to x (eikonal loss).
        n = self.resolution + 1
        coords = x.clamp(-1.0, 1.0).reshape(1, -1, 1, 1, 3)
        out = nn.functional.grid_sample(self.grid.view(1, 1, n, n, n), coords, mode="bilinear", align_corners=True)
        return out.reshape(-1)


_CLASSES = {"mlp": DeepSDFMLP, "siren": Siren, "fourier": FourierMLP, "hashgrid": HashGridSDF, "grid": DenseGridSDF}


def build_model(arch: str, **hparams) -> nn.Module:
    """Instantiate an architecture by name with its hyperparameters."""
    if arch not in _CLASSES:
        raise ValueError(f"unknown architecture '{arch}' (choose from {', '.join(ARCHITECTURES)})")
    return _CLASSES[arch](**hparams)

