"""Snakemake adapter: the run's objects, with their files and labels, as results/collection.csv."""

from implicit3d.runlog import stage_log
from implicit3d.stages.collection import collection

with stage_log(snakemake.log[0], "collection"):
    collection(snakemake.config, snakemake.output[0], digest=snakemake.params.digest)
