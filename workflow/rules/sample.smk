rule sample:
    input:
        "results/normalized/{object}.ply",
    output:
        "results/samples/{tag}/{object}.parquet",
    params:
        sampling=config["sampling"],
    log:
        "results/logs/sample/{tag}/{object}.log",
    threads: config["threads"]["sample"]
    resources:
        mem_mb=scale_with_attempt(config["resources"]["sample"]["mem_mb"]),
        runtime=scale_with_attempt(config["resources"]["sample"]["runtime"]),
    conda:
        "../envs/implicit3d.yaml"
    script:
        "../scripts/sample.py"
