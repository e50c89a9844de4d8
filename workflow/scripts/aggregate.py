"""Snakemake adapter: collect evaluation records into the summary table."""

from implicit3d.runlog import stage_log
from implicit3d.summary import load_records, write_summary

with stage_log(snakemake.log[0], "aggregate"):
    write_summary(load_records(list(snakemake.input)), snakemake.output.csv, snakemake.output.parquet, snakemake.output.md)
