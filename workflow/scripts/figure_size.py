"""Snakemake adapter: model size vs F1 across architectures."""

from implicit3d.figures import collection_figures
from implicit3d.runlog import stage_log

with stage_log(snakemake.log[0], "figure_size"):
    collection_figures(snakemake.input[0], size_out=snakemake.output[0])
