"""Snakemake adapter: train one model for one object (its training pool is drawn in the job)."""

from implicit3d.chain import step_fingerprint
from implicit3d.runlog import stage_log
from implicit3d.stages.train import train

with stage_log(snakemake.log[0], "train", fingerprint=step_fingerprint(snakemake), outputs=snakemake.output):
    train(
        snakemake.input.samples,
        snakemake.input.mesh,
        snakemake.output.model,
        snakemake.output.info,
        dict(snakemake.params.spec),
        threads=snakemake.threads,
        device=snakemake.params.device,
    )
