"""Snakemake adapter: evaluate one trained model on its object's test split."""

from implicit3d.chain import step_fingerprint
from implicit3d.runlog import stage_log
from implicit3d.stages.evaluate import evaluate

with stage_log(snakemake.log[0], "evaluate", fingerprint=step_fingerprint(snakemake), outputs=snakemake.output):
    evaluate(
        snakemake.input.model,
        snakemake.input.info,
        snakemake.input.samples,
        snakemake.output[0],
        object_name=snakemake.wildcards.object,
        model_name=snakemake.wildcards.model,
        threads=snakemake.threads,
    )
