rule normalize:
    input:
        mesh_path,
    output:
        mesh=NORMALIZED,
        transform="results/normalized/{object}.json",
    params:
        max_faces=config.get("normalize", {}).get("max_faces"),
        decimate=config.get("normalize", {}).get("decimate", False),
    log:
        "results/logs/normalize/{object}.log",
    threads: config["threads"]["normalize"]
    resources:
        mem_mb=scale_with_attempt(config["resources"]["normalize"]["mem_mb"]),
        runtime=scale_with_attempt(config["resources"]["normalize"]["runtime"]),
    conda:
        "../envs/implicit3d.yaml"
    script:
        "../scripts/normalize.py"
