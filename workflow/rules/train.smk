rule train:
    input:
        # The test points' file records how the training pool is drawn (sampling config, seed,
        # mesh digest); the job draws it from the normalized mesh, in memory: it is never stored.
        samples=samples_path,
        mesh=NORMALIZED,
    output:
        model="results/models/{model}/{tag}/{object}.pt",
        info="results/models/{model}/{tag}/{object}.json",
    params:
        spec=lambda wc: model_spec(config, wc.model, wc.object),
        device=config["device"],
    log:
        "results/logs/train/{model}/{tag}/{object}.log",
    threads: config["threads"]["train"]
    resources:
        mem_mb=scale_with_attempt(config["resources"]["train"]["mem_mb"]),
        runtime=scale_with_attempt(config["resources"]["train"]["runtime"]),
        gpu=train_gpu,
    conda:
        "../envs/implicit3d.yaml"
    script:
        "../scripts/train.py"
