"""Snakemake adapter: sample the test points with ground-truth SDF for one object."""

from implicit3d.chain import step_fingerprint
from implicit3d.runlog import stage_log
from implicit3d.stages.sample import sample

with stage_log(snakemake.log[0], "sample", fingerprint=step_fingerprint(snakemake), outputs=snakemake.output):
    sample(snakemake.input[0], snakemake.output[0], dict(snakemake.params.sampling), threads=snakemake.threads)
