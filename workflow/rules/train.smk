rule train:
    input:
        samples_path,
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
