"""Snakemake adapter: DVC metrics and plot files from the summary table and the training records."""

from implicit3d.runlog import stage_log
from implicit3d.stages.tracking import tracking

with stage_log(snakemake.log[0], "tracking"):
    infos = {model: list(paths) for model, paths in snakemake.params.infos.items()}
    tracking(snakemake.input.summary, snakemake.output.metrics, snakemake.output.timings, snakemake.output.f1, infos, list(snakemake.output.loss))
