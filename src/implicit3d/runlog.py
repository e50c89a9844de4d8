"""Run a stage with its output going to a log file and user errors as one line."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from .errors import Implicit3DError, first_line
from .io import atomic_path


def error_record_path(log_path: str | Path) -> Path:
    """Where a failed stage leaves its one-line error: beside its log, `.err` for `.log`."""
    return Path(log_path).with_suffix(".err")


def file_digest(path: str | Path) -> str:
    """A file's content in a few bytes (size and BLAKE2b): what a finished stage records of each output.
    Not its modification time: Snakemake touches outputs that a job left as they were."""
    digest = hashlib.blake2b(digest_size=12)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return f"{os.path.getsize(path)}:{digest.hexdigest()}"


def done_record_path(log_path: str | Path) -> Path:
    """Where a finished stage records the fingerprint of its settings: beside its log, `.done`."""
    return Path(log_path).with_suffix(".done")


@contextlib.contextmanager
def stage_log(log_path: str | None, stage: str, fingerprint: str | None = None, outputs: Iterable = ()) -> Iterator[logging.Logger]:
    """Send logging, stdout and stderr to `log_path`; turn a known error into one line and exit 1.

    The one-line error also goes to the terminal (the original stderr), so a user
    running many objects sees which one failed and why without opening logs. Any
    failure also leaves that line in `error_record_path(log_path)`: Snakemake deletes
    a failed job's outputs but not this file, and results/failed.csv is built from it.
    With a `fingerprint` (implicit3d.chain.stage_fingerprint), success leaves it in
    `done_record_path(log_path)` with the content digest of each of `outputs` (`file_digest`): what
    a chain rerun compares before it redoes the stage.
    """
    terminal, output = sys.stderr, sys.stdout  # put back afterwards (a caller may have replaced them)
    record = error_record_path(log_path) if log_path else None
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        record.unlink(missing_ok=True)  # left by an earlier failed run of this job
        done_record_path(log_path).unlink(missing_ok=True)  # this run decides again
    handle = open(log_path, "w", buffering=1) if log_path else None
    if handle:
        sys.stdout = sys.stderr = handle
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr, force=True)
    logger = logging.getLogger("implicit3d")
    try:
        yield logger
        if log_path and fingerprint is not None:
            made = {str(p): file_digest(p) for p in outputs}
            with atomic_path(done_record_path(log_path)) as tmp:
                tmp.write_text(json.dumps({"stage": stage, "fingerprint": fingerprint, "outputs": made}) + "\n")
    except Implicit3DError as exc:
        message = f"implicit3d {stage} error: {exc}"
        logger.error(message)
        _write_record(record, str(exc))
        if handle:
            print(message, file=terminal, flush=True)
        raise SystemExit(1) from None
    except Exception as exc:
        # A bug or an environment failure: the traceback goes to the log, one line to the record.
        logger.exception("implicit3d %s failed", stage)
        _write_record(record, f"{first_line(exc, limit=300)} (traceback in {log_path})")
        raise
    finally:
        if handle:
            sys.stdout, sys.stderr = output, terminal
            handle.close()


def _write_record(record: Path | None, line: str) -> None:
    if record is not None:
        with atomic_path(record) as tmp:
            tmp.write_text(" ".join(line.splitlines()) + "\n")  # one line, whatever the message held
