rule evaluate:
    input:
        model="results/models/{model}/{tag}/{object}.pt",
        info="results/models/{model}/{tag}/{object}.json",
        samples=samples_path,
    output:
        "results/eval/{model}/{tag}/{object}.json",
    log:
        "results/logs/evaluate/{model}/{tag}/{object}.log",
    threads: config["threads"]["evaluate"]
    resources:
        mem_mb=scale_with_attempt(config["resources"]["evaluate"]["mem_mb"]),
        runtime=scale_with_attempt(config["resources"]["evaluate"]["runtime"]),
    conda:
        "../envs/implicit3d.yaml"
    script:
        "../scripts/evaluate.py"
