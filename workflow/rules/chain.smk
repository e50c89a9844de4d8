# object_jobs: chain (and every shard job's run): all of an object's stages in one job, run in a
# worker process that imported everything once (implicit3d.workers). The files are those of the
# per-stage rules, at their paths, with their logs; `figures_in_worker` draws the worst objects'
# figures (products.figures_for) in the same workers, and the per-stage rules stand ready for
# anything these rules do not make.


ruleorder: object > figures_in_worker > normalize > sample > train > evaluate > reconstruct > figures


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


# The figures rule's job (its inputs, outputs and log), drawn in a chain worker: no process of its
# own that imports torch and matplotlib again for each of the worst objects.
rule figures_in_worker:
    input:
        unpack(figure_inputs),
    output:
        **figure_outputs(),
    log:
        "results/logs/figures/{model}/{tag}/{object}.log",
    threads: config["threads"]["figures"]
    resources:
        mem_mb=scale_with_attempt(config["resources"]["figures"]["mem_mb"]),
        runtime=scale_with_attempt(config["resources"]["figures"]["runtime"]),
    run:
        from implicit3d.workers import run_figures

        run_figures(wildcards, input, output, config, log[0], workers=max(1, workflow.cores // threads))
