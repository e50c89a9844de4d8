"""Snakemake adapter: DVC metrics and plot files from the summary table."""

from implicit3d.runlog import stage_log
from implicit3d.tracking import write_tracking

with stage_log(snakemake.log[0], "tracking"):
    write_tracking(snakemake.input[0], snakemake.output.metrics, snakemake.output.f1)
