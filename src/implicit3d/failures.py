"""Which objects failed, at which stage and why: `results/failed.csv`.

Snakemake deletes the outputs of a failed job and, with `--keep-going`, skips
everything downstream of it, so the aggregate rule never runs when one object
fails. The workflow's `onerror` handler (workflow/rules/failures.smk) then builds
the report from the files on disk: a step whose outputs all exist is done; else
the one-line error record that `runlog.stage_log` leaves beside the job's log says
why it failed; else a log written during this run means the job was killed or
crashed outside Python; else the step did not run.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .io import atomic_path, write_json
from .runlog import error_record_path
from .summary import write_summary

FAILED_COLUMNS = ["object", "stage", "error", "model", "log"]
NOT_RUN = "not run: the workflow stopped early, after a failure elsewhere or an interruption (rerun, with --keep-going)"


@dataclass(frozen=True)
class Step:
    """One job of an object's chain: its output files and log, already formatted."""

    stage: str
    outputs: tuple[str, ...]
    log: str | None
    model: str = ""  # empty for steps shared by every model of the object (normalize, sample)


@dataclass(frozen=True)
class Chain:
    """Every step from the input mesh to one model's results, upstream first."""

    object: str
    model: str
    steps: tuple[Step, ...]


def build_chains(
    objects: Iterable[str],
    models: Iterable[str],
    rules: Iterable[tuple[str, list[str], list[str]]],
    sample_tag: str,
    model_tags: dict[str, str],
) -> list[Chain]:
    """Chains from the per-object rules, given as (name, output patterns, log patterns).

    A pattern with `{model}` belongs to that model and its `{tag}` is the model's tag;
    one without is shared by all models and its `{tag}` is the sampling tag.
    """
    rules = [(name, list(outputs), list(logs)) for name, outputs, logs in rules]
    chains = []
    for model in models:
        for obj in objects:
            steps = []
            for name, outputs, logs in rules:
                per_model = any("{model}" in p for p in outputs)
                values = {"object": obj, "model": model, "tag": model_tags[model] if per_model else sample_tag}
                try:
                    formatted = tuple(p.format(**values) for p in outputs)
                    log = logs[0].format(**values) if logs else None
                except (KeyError, IndexError):
                    continue  # a wildcard other than object/model/tag: not a per-object step
                steps.append(Step(name, formatted, log, model if per_model else ""))
            chains.append(Chain(obj, model, tuple(steps)))
    return chains


CHAIN_RULE = "object"  # an object's stages in one job (chain.smk): its stages' own logs say which failed


def object_rules(workflow, rules) -> list[tuple[str, list[str], list[str]]]:
    """(name, output patterns, log patterns) of every per-stage Snakemake rule with an {object}
    output, in definition order (upstream first); `workflow` and `rules` are the Snakefile's globals.
    The chain rule is left out: its stages log where the per-stage rules do."""
    found = []
    for rule in workflow.rules:
        if rule.name == CHAIN_RULE:
            continue
        proxy = getattr(rules, rule.name)
        outputs = [str(p) for p in proxy.output]
        if any("{object}" in p for p in outputs):
            found.append((rule.name, outputs, [str(p) for p in proxy.log]))
    return found


def existing(paths: Iterable[str]) -> list[str]:
    return [p for p in paths if os.path.exists(p)]


def step_done(step: Step) -> bool:
    return all(os.path.exists(p) for p in step.outputs)


def chain_failure(chain: Chain, since: float | None = None, required: set[str] | None = None) -> dict | None:
    """The failed.csv row for the first step of `chain` that failed in this run, or None.

    `since` is the start time of the run: error records and logs older than that belong
    to an earlier run. A chain with no such evidence still gets a "not run" row when one
    of its `required` files (default: all outputs; in the workflow, the aggregate rule's
    inputs) is missing; products nobody asked for in this run are not failures.
    """
    pending = [step for step in chain.steps if not step_done(step)]
    if not pending:
        return None
    for step in pending:
        error = _recorded_error(step, since)
        if error is None and step.log and _written_since(step.log, since):
            error = f"no error recorded: the job was killed or crashed outside Python (see {step.log})"
        if error is not None:
            return _row(chain, step, error)
    missing = [p for step in pending for p in step.outputs if not os.path.exists(p)]
    if required is not None and not any(p in required for p in missing):
        return None
    earlier = next((e for e in (_recorded_error(step) for step in pending) if e), None)
    return _row(chain, pending[0], NOT_RUN + (f"; earlier error: {earlier}" if earlier else ""))


def collect_failures(chains: Iterable[Chain], since: float | None = None, required: Iterable[str] | None = None) -> list[dict]:
    """One row per failed step: a shared step (normalize, sample) once per object, not per model."""
    required = set(required) if required is not None else None
    rows: dict[tuple, dict] = {}
    for chain in chains:
        row = chain_failure(chain, since, required)
        if row is not None:
            rows.setdefault((row["object"], row["stage"], row["model"]), row)
    return list(rows.values())


def failures_frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=FAILED_COLUMNS)


def write_failures(path: str | os.PathLike, rows: list[dict]) -> None:
    """results/failed.csv: a header only when nothing failed."""
    with atomic_path(path) as tmp:
        failures_frame(rows).to_csv(tmp, index=False)


def write_failure_marker(path: str | os.PathLike, rows: list[dict]) -> None:
    """A file the aggregate rule takes as input when it exists: rewritten (newer, new content)
    after every failed run, it makes the next run rebuild the summary that the failure
    handler wrote outside Snakemake's bookkeeping, even when no other input changed."""
    write_json(path, {"time": datetime.datetime.now().isoformat(), "failed": rows})


def write_partial_report(rows: list[dict], records: pd.DataFrame, summary_paths: tuple, failed_csv: str | os.PathLike, marker: str | os.PathLike) -> None:
    """What the aggregate rule would write, for the objects that finished, plus failed.csv.
    The marker goes last, so it is newer than the summary it invalidates."""
    write_summary(records, *summary_paths)
    write_failures(failed_csv, rows)
    write_failure_marker(marker, rows)


def format_failures(rows: list[dict], n_objects: int, failed_csv: str, summary: str, limit: int = 20) -> str:
    """The handler's message for the terminal: counts, then one line per failure."""
    failed = {r["object"] for r in rows if not r["error"].startswith(NOT_RUN)}
    not_run = {r["object"] for r in rows} - failed
    head = f"implicit3d: {len(failed)} of {n_objects} objects failed"
    if not_run:
        head += f" and {len(not_run)} did not run"
    lines = [f"{head} (listed in {failed_csv}); the summary of the others is in {summary}"]
    for row in rows[:limit]:
        where = f"{row['stage']}/{row['model']}" if row["model"] else row["stage"]
        lines.append(f"  {row['object']} [{where}]: {row['error']}")
    if len(rows) > limit:
        lines.append(f"  ... and {len(rows) - limit} more")
    return "\n".join(lines)


def _row(chain: Chain, step: Step, error: str) -> dict:
    return {"object": chain.object, "stage": step.stage, "error": error, "model": step.model, "log": step.log or ""}


def _recorded_error(step: Step, since: float | None = None) -> str | None:
    """The step's one-line error record, if there is one (written since `since`, if given)."""
    if not step.log:
        return None
    record = error_record_path(step.log)
    if since is not None and not _written_since(record, since):
        return None
    try:
        text = Path(record).read_text().strip()
    except OSError:
        return None
    return text or None


def _written_since(path: str, since: float | None) -> bool:
    try:
        mtime = os.path.getmtime(path)
    except OSError:
        return False
    return since is None or mtime >= since
