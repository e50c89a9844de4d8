"""Evaluate an exported model (`implicit3d export MODEL -o model.npz`) with NumPy alone: this module
imports neither torch nor anything else of the package, so it can be copied out on its own.

    from implicit3d.portable import load
    sdf = load("model.npz")(points)  # (N, 3) points of the normalized frame -> (N,) SDF, negative inside

The .npz holds `__meta__` (JSON: format, version, arch, every hyperparameter, the stored weight
dtype) and the model's parameters and buffers by their torch names, as float32 (integer buffers as
stored), with weight norm already folded into plain weights. Every architecture is evaluated in
float32 with the arithmetic of its torch forward pass, so the SDF agrees to float32 rounding.
"""

from __future__ import annotations

import json
import os
import re

import numpy as np

FORMAT = "implicit3d-sdf"
VERSION = 1
CHUNK = 16384  # points per step: a hash grid's corner rows and weights take ~3 kB per point
# Spatial-hash primes (Teschner et al.), as in implicit3d.models: int64 products keep the low bits exact.
_PRIMES = (1, 2654435761, 805459861)


class PortableSDF:
    """An exported model: call it on (N, 3) points to get their (N,) SDF as float32."""

    def __init__(self, arch: str, hparams: dict, arrays: dict[str, np.ndarray]):
        forward = getattr(self, f"_{arch}", None)
        if forward is None:
            raise ValueError(f"unknown architecture '{arch}'")
        self.arch, self.hparams, self.arrays, self._forward = arch, hparams, arrays, forward

    def __call__(self, points: np.ndarray, chunk: int = CHUNK) -> np.ndarray:
        x = np.asarray(points, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != 3:
            raise ValueError(f"expected (N, 3) points, got shape {x.shape}")
        out = np.empty(len(x), dtype=np.float32)
        for start in range(0, len(x), chunk):
            out[start : start + chunk] = self._forward(np.ascontiguousarray(x[start : start + chunk]))
        return out

    def __repr__(self) -> str:
        return f"PortableSDF({self.arch}, {self.hparams})"

    # One method per architecture of implicit3d.models, on float32 points (B, 3).

    def _mlp(self, x: np.ndarray) -> np.ndarray:
        beta, skip = float(self.hparams.get("softplus_beta", 0.0)), self.hparams.get("skip")
        h = x
        for i, (w, b) in enumerate(self._linears("layers")):
            if i == skip:
                h = np.concatenate([h, x], axis=1)
            h = _linear(h, w, b)
            if beta > 0:  # torch.nn.Softplus: linear above its threshold of 20
                bh = h * np.float32(beta)
                h = np.where(bh > 20, h, np.log1p(np.exp(np.minimum(bh, 20))) / np.float32(beta))
            else:
                h = np.maximum(h, 0)
        return _linear(h, self.arrays["out.weight"], self.arrays["out.bias"])[:, 0]

    def _siren(self, x: np.ndarray) -> np.ndarray:
        w0 = np.float32(self.hparams["w0"])
        h = x
        for w, b in self._linears("body", ".linear"):
            h = np.sin(w0 * _linear(h, w, b))
        return _linear(h, self.arrays["out.weight"], self.arrays["out.bias"])[:, 0]

    def _fourier(self, x: np.ndarray) -> np.ndarray:
        proj = (np.float32(2 * np.pi) * x) @ self.arrays["basis"]
        return self._relu_mlp(np.concatenate([x, np.sin(proj), np.cos(proj)], axis=1))

    def _hashgrid(self, x: np.ndarray) -> np.ndarray:
        a, levels, batch = self.arrays, int(self.hparams["levels"]), len(x)
        log2 = np.broadcast_to(np.asarray(self.hparams["log2_table"], dtype=np.int64), (levels,))  # one for all, or per level
        rows_per_level = np.left_shift(1, log2)
        fits = (a["resolution"].astype(np.int64) + 1) ** 3 <= rows_per_level
        n_dense = levels if fits.all() else int(np.argmin(fits))  # the leading levels that fit their rows densely
        u = np.clip((x.T + np.float32(1)) * np.float32(0.5), 0, 1)  # (3, B)
        pos = u[None] * a["resolution"][:, None, None]  # (L, 3, B)
        p0 = np.minimum(pos.astype(np.int64), a["max_corner"].astype(np.int64)[:, None, None])  # floor, as pos >= 0
        frac = pos - p0.astype(np.float32)
        parts = []
        if n_dense:
            s = a["stride"][:n_dense].astype(np.int64)[:, :, None]
            a0 = p0[:n_dense] * s
            a1 = a0 + s
            rows = (
                np.stack([a0[:, 0], a1[:, 0]], 1)[:, :, None, None]
                + np.stack([a0[:, 1], a1[:, 1]], 1)[:, None, :, None]
                + np.stack([a0[:, 2], a1[:, 2]], 1)[:, None, None, :]
            )
            parts.append(rows.reshape(n_dense, 8, batch))
        if n_dense < levels:
            q0 = p0[n_dense:]
            hx = np.stack([q0[:, 0], q0[:, 0] + 1], 1)
            hy = np.stack([q0[:, 1] * _PRIMES[1], (q0[:, 1] + 1) * _PRIMES[1]], 1)
            hz = np.stack([q0[:, 2] * _PRIMES[2], (q0[:, 2] + 1) * _PRIMES[2]], 1)
            mask = (rows_per_level[n_dense:] - 1)[:, None, None, None, None]
            rows = (hx[:, :, None, None] ^ hy[:, None, :, None] ^ hz[:, None, None, :]) & mask
            parts.append(rows.reshape(levels - n_dense, 8, batch))
        idx = np.concatenate(parts, 0) + a["offset"].astype(np.int64)[:, None, None]  # (L, 8, B)
        f0, f1, f2 = frac[:, 0], frac[:, 1], frac[:, 2]
        w = (
            np.stack([1 - f0, f0], 1)[:, :, None, None]
            * np.stack([1 - f1, f1], 1)[:, None, :, None]
            * np.stack([1 - f2, f2], 1)[:, None, None, :]
        ).reshape(levels, 8, batch)
        feats = (a["table"][:, idx] * w).sum(2)  # (F, L, B)
        h = feats.transpose(2, 1, 0).reshape(batch, -1)  # (B, L * F), level-major as in torch
        if self.hparams.get("include_xyz", True):
            h = np.concatenate([h, x], axis=1)
        return self._relu_mlp(h)

    def _grid(self, x: np.ndarray) -> np.ndarray:
        grid = self.arrays["grid"]
        res, batch = grid.shape[0] - 1, len(x)
        pos = np.clip((x.T + np.float32(1)) * np.float32(0.5 * res), 0, res)  # (3, B)
        p0 = np.minimum(pos.astype(np.int64), res - 1)
        frac = pos - p0.astype(np.float32)
        stride = np.array([1, res + 1, (res + 1) ** 2], dtype=np.int64)[:, None]
        a0 = p0 * stride
        a1 = a0 + stride
        idx = (
            np.stack([a0[0], a1[0]])[:, None, None]
            + np.stack([a0[1], a1[1]])[None, :, None]
            + np.stack([a0[2], a1[2]])[None, None, :]
        ).reshape(8, batch)
        f0, f1, f2 = frac
        w = (
            np.stack([1 - f0, f0])[:, None, None] * np.stack([1 - f1, f1])[None, :, None] * np.stack([1 - f2, f2])[None, None, :]
        ).reshape(8, batch)
        return (grid.reshape(-1)[idx] * w).sum(0)

    def _linears(self, prefix: str, suffix: str = "") -> list[tuple[np.ndarray, np.ndarray]]:
        """(weight, bias) of `prefix.<i><suffix>` in the order of i."""
        pattern = re.compile(rf"{re.escape(prefix)}\.(\d+){re.escape(suffix)}\.weight")
        found = sorted(int(m[1]) for k in self.arrays if (m := pattern.fullmatch(k)))
        return [(self.arrays[f"{prefix}.{i}{suffix}.weight"], self.arrays[f"{prefix}.{i}{suffix}.bias"]) for i in found]

    def _relu_mlp(self, h: np.ndarray) -> np.ndarray:
        """The `mlp` Sequential of Linear, ReLU, ..., Linear."""
        layers = self._linears("mlp")
        for w, b in layers[:-1]:
            h = np.maximum(_linear(h, w, b), 0)
        return _linear(h, *layers[-1])[:, 0]


def _linear(h: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    return h @ weight.T + bias


def load(path: str | os.PathLike) -> PortableSDF:
    """An exported .npz (`implicit3d export MODEL -o PATH.npz`) as a callable SDF."""
    with np.load(path, allow_pickle=False) as data:
        if "__meta__" not in data.files:
            raise ValueError(f"{path}: not an implicit3d export (no __meta__)")
        meta = json.loads(str(data["__meta__"]))
        arrays = {k: data[k] for k in data.files if k != "__meta__"}
    if meta.get("format") != FORMAT or int(meta.get("version", 0)) > VERSION:
        raise ValueError(f"{path}: format {meta.get('format')} version {meta.get('version')}, this reader takes {FORMAT} up to {VERSION}")
    return PortableSDF(meta["arch"], meta["hparams"], arrays)
