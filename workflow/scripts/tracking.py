"""Snakemake adapter: DVC metrics and plot files from the summary table and the training records."""

import os

from implicit3d.runlog import stage_log
from implicit3d.tracking import write_loss_curves, write_tracking

with stage_log(snakemake.log[0], "tracking"):
    write_tracking(snakemake.input.summary, snakemake.output.metrics, snakemake.output.f1)
    write_loss_curves({m: list(p) for m, p in snakemake.params.infos.items()}, os.path.dirname(snakemake.output.loss[0]))
