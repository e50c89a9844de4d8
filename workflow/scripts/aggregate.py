"""Snakemake adapter: collect evaluation and reconstruction records into the summary table."""

from implicit3d.runlog import stage_log
from implicit3d.stages.aggregate import aggregate

with stage_log(snakemake.log[0], "aggregate"):
    out = snakemake.output
    aggregate(list(snakemake.params.evals), list(snakemake.params.reconstructions), snakemake.input.collection,
              out.csv, out.parquet, out.md, out.failed)  # fmt: skip
