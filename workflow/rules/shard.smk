# Large collections (config `shards`): one job per group of objects runs every per-object step of
# its objects as a nested Snakemake run on the job's own cores (implicit3d.shards).


rule shard:
    input:
        lambda wildcards: [ALL_MESHES[o] for o in SHARDS[int(wildcards.shard)]],
    output:
        "results/shards/{shard}.json",
    params:
        objects=lambda wildcards: SHARDS[int(wildcards.shard)],
        # The whole resolved config: any change re-runs the shard, whose run then redoes only what changed.
        config=config,
        deployment=[m.name.lower() for m in workflow.deployment_settings.deployment_method],
        snakefile=workflow.main_snakefile,
    wildcard_constraints:
        shard="[0-9]+",
    log:
        "results/logs/shard/{shard}.log",
    threads: config["shards"]["threads"]
    resources:
        mem_mb=scale_with_attempt(config["shards"]["mem_mb"]),
        runtime=scale_with_attempt(config["shards"]["runtime"]),
    # The environment has Snakemake for the nested run, which deploys the rules' environment as
    # this run does (params.deployment).
    conda:
        "../envs/implicit3d.yaml"
    script:
        "../scripts/shard.py"
