"""Worker processes for the chain rule: each imported torch and the stages once (a forkserver
preloads them, and workers fork from it), so a shard or a local run pays the imports once instead
of per object or per stage. Snakemake runs the chain rule's `run:` block in a thread
(--force-use-threads), which hands the object to a worker and waits; the worst objects' figures
(products.figures_for) go to the same workers."""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import threading
from concurrent.futures.process import BrokenProcessPool

from .errors import Implicit3DError

# What every worker needs, imported once in the forkserver: torch, the stages, the figures.
PRELOAD = ["implicit3d.workers_preload"]
TASKS_PER_WORKER = 50  # then a fresh worker: memory a long run accumulates goes back

_pool: concurrent.futures.ProcessPoolExecutor | None = None
_lock = threading.Lock()


class ChainError(Implicit3DError):
    """A stage of an object's chain failed; its one-line error is in its log's record."""


def pool(workers: int) -> concurrent.futures.ProcessPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(PRELOAD)
            _pool = concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=context, max_tasks_per_child=TASKS_PER_WORKER)
        return _pool


def run_chain(mesh: str, object_id: str, config: dict, log: str, workers: int = 1) -> list[dict]:
    """One object's chain (implicit3d.chain.fit_object, fresh stages skipped) in a worker; a failed
    stage raises ChainError with its one-line error, a dead worker a fresh pool for the next object."""
    return _in_worker(workers, object_id, log, chain_job, mesh, object_id, config, log)


def run_figures(wildcards, inputs, outputs, config: dict, log: str, workers: int = 1) -> None:
    """One object and model's figures in a worker (a figures job's wildcards, named inputs and
    outputs): the worst objects' with products.figures_for, drawn after the summary, without a
    process of their own that imports torch and matplotlib again."""
    inputs, outputs = dict(inputs.items()), dict(outputs.items())  # plain dicts: they go to another process
    _in_worker(workers, wildcards.object, log, figures_job, wildcards.object, wildcards.model, inputs, outputs, config, log)


def _in_worker(workers: int, object_id: str, log: str, job, *args):
    """`job(*args)` in a worker of the pool, its result; a dead worker raises ChainError and leaves
    a fresh pool for the next job."""
    global _pool
    try:
        return pool(workers).submit(job, *args).result()
    except BrokenProcessPool:
        with _lock:
            _pool = None
        raise ChainError(f"{object_id}: the worker process died (killed, or out of memory); see {log}") from None


def chain_job(mesh: str, object_id: str, config: dict, log: str) -> list[dict]:
    """What a worker runs: the chain, its stage lines in `log`; SystemExit (a stage's one-line error)
    becomes an exception the pool can hand back."""
    from pathlib import Path

    from .chain import fit_object

    Path(log).parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w", buffering=1) as handle:
        try:
            return fit_object(mesh, "results", object_id, config, skip_fresh=True, report=lambda line: print(line, file=handle))
        except SystemExit:
            raise ChainError(f"{object_id}: a stage failed (its error is in its log; results/failed.csv names it)") from None


def figures_job(object_id: str, model: str, inputs: dict, outputs: dict, config: dict, log: str) -> None:
    """What a worker runs for `run_figures`: the figures stage, logged as the figures rule logs it."""
    from .chain import object_figures, stage_fingerprint
    from .runlog import stage_log

    try:
        with stage_log(log, "figures", fingerprint=stage_fingerprint("figures", config, object_id, model), outputs=list(outputs.values())):
            object_figures(config, object_id, model, inputs["model"], inputs["truth"], inputs["evaluation"], inputs.get("mesh"),
                           inputs.get("metrics"), outputs)  # fmt: skip
    except SystemExit:
        raise ChainError(f"{object_id}: its figures failed (the error is in {log})") from None
