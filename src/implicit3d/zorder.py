"""Z-order (Morton) interleaving of three integer coordinates into one code, and back.

Light on purpose (numpy only): the ground truth sorts points by these codes, and the samples
file stores its lattice points as them."""

from __future__ import annotations

import numpy as np

BITS = 21  # per axis: three fit in 63 bits

# (shift, mask) steps that insert two zero bits between the low 21 bits of a value.
_SPREAD = ((32, 0x1F00000000FFFF), (16, 0x1F0000FF0000FF), (8, 0x100F00F00F00F00F), (4, 0x10C30C30C30C30C3), (2, 0x1249249249249249))


def spread_bits(x: np.ndarray) -> np.ndarray:
    """Insert two zero bits between the low 21 bits of each value (uint64)."""
    x = np.asarray(x, dtype=np.uint64)
    for shift, mask in _SPREAD:
        x = (x | (x << np.uint64(shift))) & np.uint64(mask)
    return x


def compact_bits(x: np.ndarray) -> np.ndarray:
    """The inverse of `spread_bits`: every third bit, from bit 0, packed together (uint64)."""
    x = np.asarray(x, dtype=np.uint64) & np.uint64(_SPREAD[-1][1])
    masks = ((1 << BITS) - 1, *(mask for _, mask in _SPREAD[:-1]))
    for (shift, _), mask in zip(reversed(_SPREAD), reversed(masks), strict=True):
        x = (x | (x >> np.uint64(shift))) & np.uint64(mask)
    return x


def interleave(cells: np.ndarray) -> np.ndarray:
    """Z-order codes (uint64) of (N, 3) non-negative integer cells below 2**21."""
    cells = np.asarray(cells, dtype=np.uint64)
    return spread_bits(cells[:, 0]) | (spread_bits(cells[:, 1]) << np.uint64(1)) | (spread_bits(cells[:, 2]) << np.uint64(2))


def deinterleave(codes: np.ndarray) -> np.ndarray:
    """The (N, 3) cells (uint64) that `interleave` made `codes` from."""
    codes = np.asarray(codes, dtype=np.uint64)
    return np.stack([compact_bits(codes >> np.uint64(k)) for k in range(3)], axis=1)
