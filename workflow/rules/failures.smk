# One bad object never sinks the rest. A failing job fails the Snakemake way (exit 1, outputs
# removed, one line on the terminal, and that line in `<log>.err`); with --keep-going every
# other object still runs. The aggregate rule cannot run then (its inputs are missing), so this
# handler writes the summary of the objects that finished plus results/failed.csv, and
# Snakemake still exits non-zero. A next run retries only what is missing.
import sys
import time

from implicit3d.failures import (
    build_chains,
    collect_failures,
    existing,
    format_failures,
    object_rules,
    write_partial_report,
)
from implicit3d.summary import load_records

RUN_START = time.time()  # logs older than this belong to an earlier run
FAILURE_MARKER = "results/status/last_failure.json"


onerror:
    # A shard job's run leaves the report to the top-level run, which reports the whole collection.
    if SHARD_INDEX is None:
        try:
            chains = build_chains(OBJECTS, MODELS, object_rules(workflow, rules), SAMPLE_TAG, MODEL_TAGS)
            # Every step that failed in this run is reported; one that did not run, only when
            # the summary needs its files (products outside the requested targets are not missing).
            needed = eval_paths(None) + reconstruction_paths(None)
            failures = collect_failures(chains, since=RUN_START, required=needed)
            # No per-object failure: a collection step failed, and its own error says why.
            if failures:
                out = rules.aggregate.output
                evals = existing(eval_paths(None))
                records = load_records(
                    evals, existing(reconstruction_paths(None)) if evals else [], COLLECTION.rows()
                )
                write_partial_report(failures, records, (out.csv, out.parquet, out.md), out.failed, FAILURE_MARKER)
                print(format_failures(failures, len(OBJECTS), out.failed, out.md), file=sys.stderr)
        except Exception as exc:  # the handler must not hide Snakemake's own error report
            print(f"implicit3d: could not write the failure report: {type(exc).__name__}: {exc}", file=sys.stderr)
