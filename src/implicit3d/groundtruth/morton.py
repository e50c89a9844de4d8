"""Morton (Z-order) codes: sorting points along a space-filling curve keeps neighbours
close in memory, which roughly halves the cost of tree queries and lets the winding
number find overlapping balls among consecutive points."""

from __future__ import annotations

import numpy as np
from numba import njit

from ..zorder import interleave


def morton_codes(unit: np.ndarray, bits: int = 16) -> np.ndarray:
    """Z-order codes of points in [0, 1)^3 (values outside are clipped)."""
    return interleave(np.clip((unit * (1 << bits)).astype(np.int64), 0, (1 << bits) - 1))


def column_bounds(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column, the least and the largest value of (N, 3) points: the same as min(axis=0) and
    max(axis=0), column by column, which numpy reduces many times faster than across the rows."""
    return np.array([points[:, k].min() for k in range(3)]), np.array([points[:, k].max() for k in range(3)])


def unit_box(points: np.ndarray, shift: float = 0.0) -> np.ndarray:
    """Points scaled into [0, 1)^3 (with room for a shift), for Morton codes."""
    lo, hi = column_bounds(points)
    span = float((hi - lo).max()) or 1.0
    return (points - lo) / (span * (1.0 + shift) * (1 + 1e-9)) + shift / (1.0 + shift)


def morton_order(points: np.ndarray) -> np.ndarray:
    """The order of the points along the Z curve: `np.argsort(morton_codes(...), kind="stable")`,
    by a compiled radix sort (16 bits a pass over the 48-bit codes, each pass stable)."""
    return _radix_order(_codes(unit_box(points)), 48)


@njit(cache=True, nogil=True)
def _codes(unit):
    """`morton_codes(unit)` (16 bits per axis) in one compiled pass."""
    out = np.empty(unit.shape[0], np.uint64)
    for i in range(unit.shape[0]):
        code = np.uint64(0)
        for k in range(3):
            q = min(max(np.int64(unit[i, k] * 65536.0), 0), 65535)
            x = np.uint64(q)
            x = (x | (x << np.uint64(32))) & np.uint64(0x1F00000000FFFF)
            x = (x | (x << np.uint64(16))) & np.uint64(0x1F0000FF0000FF)
            x = (x | (x << np.uint64(8))) & np.uint64(0x100F00F00F00F00F)
            x = (x | (x << np.uint64(4))) & np.uint64(0x10C30C30C30C30C3)
            x = (x | (x << np.uint64(2))) & np.uint64(0x1249249249249249)
            code |= x << np.uint64(k)
        out[i] = code
    return out


@njit(cache=True, nogil=True)
def _radix_order(codes, bits):
    n = codes.shape[0]
    order = np.arange(n)
    scratch = np.empty(n, np.int64)
    count = np.empty(1 << 16, np.int64)
    for shift in range(0, bits, 16):
        count[:] = 0
        for i in range(n):
            count[(codes[i] >> np.uint64(shift)) & np.uint64(0xFFFF)] += 1
        total = 0
        for digit in range(1 << 16):
            total, count[digit] = total + count[digit], total
        for i in range(n):
            digit = (codes[order[i]] >> np.uint64(shift)) & np.uint64(0xFFFF)
            scratch[count[digit]] = order[i]
            count[digit] += 1
        order, scratch = scratch, order
    return order
