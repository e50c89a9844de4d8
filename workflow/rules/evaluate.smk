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
        mem_mb=config["resources"]["evaluate"]["mem_mb"],
        runtime=config["resources"]["evaluate"]["runtime"],
    conda:
        "../../environment.yml"
    script:
        "../scripts/evaluate.py"
