"""Snakemake adapter: the run's objects, with their files and labels, as results/collection.csv."""

from implicit3d.collection.table import write_collection
from implicit3d.runlog import stage_log
from implicit3d.workflow import load_collection

with stage_log(snakemake.log[0], "collection"):
    write_collection(load_collection(snakemake.config), snakemake.output[0], expected_digest=snakemake.params.digest)
