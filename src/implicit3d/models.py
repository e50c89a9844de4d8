"""SDF network architectures: DeepSDF-style MLP, SIREN, Fourier-feature MLP and a
multiresolution hash-grid encoding with a tiny MLP head (Instant-NGP style).

All take points (B, 3) in the normalized frame and return SDF (B,).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

ARCHITECTURES = ("mlp", "siren", "fourier", "hashgrid")


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


_PRIMES = (1, 2654435761, 805459861)
_CORNERS = torch.tensor([[i >> 2 & 1, i >> 1 & 1, i & 1] for i in range(8)], dtype=torch.int64)


class HashGridEncoding(nn.Module):
    """Multiresolution grid of learned features, trilinearly interpolated.

    Coarse levels whose (N+1)^3 vertices fit in the table are indexed densely
    (no collisions); finer levels use a spatial hash. One gather serves all levels.
    """

    def __init__(
        self,
        levels: int = 8,
        features: int = 2,
        log2_table: int = 12,
        base_resolution: int = 16,
        max_resolution: int = 256,
        bound: float = 1.0,
        init_scale: float = 1e-4,
    ):
        super().__init__()
        self.levels, self.features, self.bound = levels, features, bound
        table = 2**log2_table
        growth = (max_resolution / base_resolution) ** (1.0 / max(levels - 1, 1))
        res = [int(math.floor(base_resolution * growth**l)) for l in range(levels)]
        sizes = [min(table, (r + 1) ** 3) for r in res]
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        self.register_buffer("resolution", torch.tensor(res, dtype=torch.int64), persistent=False)
        self.register_buffer("size", torch.tensor(sizes, dtype=torch.int64), persistent=False)
        self.register_buffer("offset", torch.tensor(offsets, dtype=torch.int64), persistent=False)
        self.register_buffer("dense", torch.tensor([(r + 1) ** 3 <= table for r in res]), persistent=False)
        self.table = nn.Parameter(torch.empty(int(sum(sizes)), features).uniform_(-init_scale, init_scale))

    @property
    def out_dim(self) -> int:
        return self.levels * self.features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        u = ((x / self.bound + 1.0) * 0.5).clamp(0.0, 1.0)  # to [0, 1]
        pos = u[:, None, :] * self.resolution[None, :, None].to(u.dtype)  # (B, L, 3)
        base = torch.floor(pos).long().clamp(max=self.resolution[None, :, None] - 1)
        frac = pos - base
        corner = base[:, :, None, :] + _CORNERS.to(x.device)[None, None]  # (B, L, 8, 3)
        idx = self._index(corner)
        w = torch.where(_CORNERS.to(x.device).bool()[None, None], frac[:, :, None, :], 1.0 - frac[:, :, None, :]).prod(-1)
        feats = self.table[idx]  # (B, L, 8, F)
        return (feats * w[..., None]).sum(2).reshape(x.shape[0], -1)

    def _index(self, corner: torch.Tensor) -> torch.Tensor:
        stride = (self.resolution + 1)[None, :, None]
        dense = corner[..., 0] + stride * (corner[..., 1] + stride * corner[..., 2])
        hashed = (corner[..., 0] * _PRIMES[0]) ^ (corner[..., 1] * _PRIMES[1]) ^ (corner[..., 2] * _PRIMES[2])
        local = torch.where(self.dense[None, :, None], dense, hashed) % self.size[None, :, None]
        return local + self.offset[None, :, None]


class HashGridSDF(nn.Module):
    def __init__(self, hidden: int = 32, layers: int = 2, include_xyz: bool = True, **encoding):
        super().__init__()
        self.encoding = HashGridEncoding(**encoding)
        self.include_xyz = include_xyz
        mods: list[nn.Module] = []
        width_in = self.encoding.out_dim + (3 if include_xyz else 0)
        for _ in range(layers):
            mods += [nn.Linear(width_in, hidden), nn.ReLU()]
            width_in = hidden
        mods.append(nn.Linear(width_in, 1))
        self.mlp = nn.Sequential(*mods)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.encoding(x)
        if self.include_xyz:
            h = torch.cat([h, x], dim=-1)
        return self.mlp(h).squeeze(-1)


_CLASSES = {"mlp": DeepSDFMLP, "siren": Siren, "fourier": FourierMLP, "hashgrid": HashGridSDF}


def build_model(arch: str, **hparams) -> nn.Module:
    """Instantiate an architecture by name with its hyperparameters."""
    if arch not in _CLASSES:
        raise ValueError(f"unknown architecture '{arch}' (choose from {', '.join(ARCHITECTURES)})")
    return _CLASSES[arch](**hparams)


def stored_bytes(state: dict[str, torch.Tensor]) -> int:
    """Bytes of parameters and buffers in the dtype they are stored in."""
    return int(sum(t.numel() * t.element_size() for t in state.values()))
