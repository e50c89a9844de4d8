"""Snakemake adapter: collect evaluation and reconstruction records into the summary table."""

from implicit3d.failures import write_failures
from implicit3d.runlog import stage_log
from implicit3d.summary import load_records, read_collection, write_summary

with stage_log(snakemake.log[0], "aggregate"):
    collection = read_collection(snakemake.input.collection)
    records = load_records(list(snakemake.params.evals), list(snakemake.params.reconstructions), collection)
    write_summary(records, snakemake.output.csv, snakemake.output.parquet, snakemake.output.md)
    write_failures(snakemake.output.failed, [])  # every object finished, or this rule would not run
