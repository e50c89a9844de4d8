"""Morton (Z-order) codes: sorting points along a space-filling curve keeps neighbours
close in memory, which roughly halves the cost of tree queries and lets the winding
number find overlapping balls among consecutive points."""

from __future__ import annotations

import numpy as np


def morton_codes(unit: np.ndarray, bits: int = 16) -> np.ndarray:
    """Z-order codes of points in [0, 1)^3 (values outside are clipped)."""
    q = np.clip((unit * (1 << bits)).astype(np.int64), 0, (1 << bits) - 1).astype(np.uint64)
    return _spread_bits(q[:, 0]) | (_spread_bits(q[:, 1]) << np.uint64(1)) | (_spread_bits(q[:, 2]) << np.uint64(2))


def _spread_bits(x: np.ndarray) -> np.ndarray:
    """Insert two zero bits between the low 21 bits of x (standard bit-twiddling)."""
    for shift, mask in ((32, 0x1F00000000FFFF), (16, 0x1F0000FF0000FF), (8, 0x100F00F00F00F00F),
                        (4, 0x10C30C30C30C30C3), (2, 0x1249249249249249)):
        x = (x | (x << np.uint64(shift))) & np.uint64(mask)
    return x


def unit_box(points: np.ndarray, shift: float = 0.0) -> np.ndarray:
    """Points scaled into [0, 1)^3 (with room for a shift), for Morton codes."""
    lo, hi = points.min(axis=0), points.max(axis=0)
    span = float((hi - lo).max()) or 1.0
    return (points - lo) / (span * (1.0 + shift) * (1 + 1e-9)) + shift / (1.0 + shift)


def morton_order(points: np.ndarray) -> np.ndarray:
    return np.argsort(morton_codes(unit_box(points)), kind="stable")
