"""Snakemake adapter: the objects whose figures are drawn, each model's worst by F1 near."""

from implicit3d.runlog import stage_log
from implicit3d.stages.report import worst

with stage_log(snakemake.log[0], "worst"):
    worst(snakemake.input[0], snakemake.output[0], snakemake.params.worst)
