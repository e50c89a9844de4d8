"""Snakemake adapter: model size against F1, one point per object and model, a mean per model."""

from implicit3d.runlog import stage_log
from implicit3d.stages.report import collection_figures

with stage_log(snakemake.log[0], "figure_size"):
    collection_figures(snakemake.input[0], size_out=snakemake.output[0])
