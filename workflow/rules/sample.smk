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
        mem_mb=config["resources"]["sample"]["mem_mb"],
        runtime=config["resources"]["sample"]["runtime"],
    conda:
        "../../environment.yml"
    script:
        "../scripts/sample.py"
