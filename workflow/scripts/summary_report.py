"""Snakemake adapter: the summary table as an HTML page and the F1-per-object figure."""

from implicit3d.runlog import stage_log
from implicit3d.stages.report import collection_figures, summary_page

with stage_log(snakemake.log[0], "summary_report"):
    summary_page(snakemake.input[0], snakemake.output.table)
    collection_figures(snakemake.input[0], f1_out=snakemake.output.f1)
