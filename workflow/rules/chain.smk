# object_jobs: chain (and every shard job's run): all of an object's stages in one job, run in a
# worker process that imported everything once (implicit3d.workers). The files are those of the
# per-stage rules, at their paths, with their logs; the per-stage rules still make the figures of
# the worst objects (products.figures_for) and stand ready for anything this rule does not make.


ruleorder: object > normalize > sample > train > evaluate > reconstruct > figures


rule object:
    input:
        mesh_path,
    output:
        **chain_outputs(),
    params:
        # Each stage's settings: a change reruns the object, whose chain then redoes only those stages.
        fingerprints=chain_fingerprints,
    log:
        "results/logs/object/{object}.log",
    threads: config["threads"]["train"]
    resources:
        mem_mb=scale_with_attempt(max(r["mem_mb"] for r in config["resources"].values())),
        runtime=scale_with_attempt(sum(r["runtime"] for r in config["resources"].values())),
        gpu=train_gpu,
    run:
        from implicit3d.workers import run_chain

        run_chain(input[0], wildcards.object, config, log[0], workers=max(1, workflow.cores // threads))
