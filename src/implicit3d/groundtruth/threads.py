"""How many threads the ground truth may use (closest-face search, sign, rays).

A stage sets its job's `threads` (as it sets torch's), so a job declared with one thread uses one,
and two jobs of a `--cores 2` run do not contend for the cores; elsewhere it is every CPU this
process may run on. The results do not depend on it, only the time does."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np

Result = TypeVar("Result")

_limit: int | None = None


def set_threads(count: int | None) -> None:
    """Use at most `count` threads from now on (None: every CPU this process may run on)."""
    global _limit
    if count is not None and int(count) < 1:
        raise ValueError(f"threads must be at least 1, got {count}")
    _limit = None if count is None else int(count)


def threads() -> int:
    if _limit is not None:
        return _limit
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def parts(count: int, per_thread: int) -> int:
    """Into how many parts, one per thread, a batch of `count` items is split: at least
    `per_thread` items each (smaller ones are not worth a thread)."""
    return max(1, min(threads(), count // per_thread))


def map_rows(run: Callable[[slice], Result], count: int, per_thread: int, chunks: int = 1) -> list[Result]:
    """`run` on `count` rows split into contiguous parts, one per thread (`parts`), in threads
    (what it calls must release the GIL to gain); the results in row order. One part runs here.
    With `chunks`, each thread's share is cut into that many parts, which the threads take in
    turn: uneven work evens out."""
    split = parts(count, per_thread)
    if split > 1:
        split = min(split * chunks, count)
    base, extra = divmod(count, split)  # part sizes as np.array_split's
    bounds = np.cumsum([0] + [base + 1] * extra + [base] * (split - extra))
    rows = [slice(int(start), int(stop)) for start, stop in zip(bounds[:-1], bounds[1:], strict=True)]
    if len(rows) == 1:
        return [run(rows[0])]
    with ThreadPoolExecutor(min(len(rows), threads())) as pool:
        return list(pool.map(run, rows))
