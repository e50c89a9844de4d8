rule normalize:
    input:
        mesh_path,
    output:
        mesh="results/normalized/{object}.ply",
        transform="results/normalized/{object}.json",
    params:
        max_faces=config.get("normalize", {}).get("max_faces"),
        decimate=config.get("normalize", {}).get("decimate", False),
    log:
        "results/logs/normalize/{object}.log",
    threads: config["threads"]["normalize"]
    resources:
        mem_mb=config["resources"]["normalize"]["mem_mb"],
        runtime=config["resources"]["normalize"]["runtime"],
    conda:
        "../../environment.yml"
    script:
        "../scripts/normalize.py"
