"""Run a stage with its output going to a log file and user errors as one line."""

from __future__ import annotations

import contextlib
import logging
import sys
from pathlib import Path
from typing import Iterator

from .errors import Implicit3DError


@contextlib.contextmanager
def stage_log(log_path: str | None, stage: str) -> Iterator[logging.Logger]:
    """Send logging, stdout and stderr to `log_path`; turn a known error into one line and exit 1.

    The one-line error also goes to the terminal (the original stderr), so a user
    running many objects sees which one failed and why without opening logs.
    """
    terminal = sys.stderr
    handle = open(log_path, "w", buffering=1) if log_path else None
    if handle:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        sys.stdout = sys.stderr = handle
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr, force=True)
    logger = logging.getLogger("implicit3d")
    try:
        yield logger
    except Implicit3DError as exc:
        message = f"implicit3d {stage} error: {exc}"
        logger.error(message)
        if handle:
            print(message, file=terminal, flush=True)
        raise SystemExit(1) from None
    finally:
        if handle:
            sys.stdout, sys.stderr = sys.__stdout__, terminal
            handle.close()
