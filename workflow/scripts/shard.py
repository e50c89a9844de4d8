"""Snakemake adapter: run every per-object step of one shard's objects (a nested Snakemake run)."""

from implicit3d.runlog import stage_log
from implicit3d.stages.shard import run_shard

with stage_log(snakemake.log[0], "shard"):
    run_shard(
        int(snakemake.wildcards.shard),
        list(snakemake.params.objects),
        dict(snakemake.params.config),
        snakemake.output[0],
        snakefile=snakemake.params.snakefile,
        cores=snakemake.threads,
        mem_mb=snakemake.resources.mem_mb,
        deployment=list(snakemake.params.deployment),
    )
