rule sample:
    input:
        NORMALIZED,
    output:
        # The test points (kept) and how they were drawn; train jobs draw their pool from it in memory.
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
