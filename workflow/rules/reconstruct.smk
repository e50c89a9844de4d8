rule reconstruct:
    input:
        model="results/models/{model}/{tag}/{object}.pt",
        truth=NORMALIZED,
    output:
        mesh=RECONSTRUCTION,
        metrics="results/meshes/{model}/{tag}/{object}.json",
    params:
        resolution=config["reconstruct"]["resolution"],
        surface_points=config["reconstruct"]["surface_points"],
        domain=config["sampling"]["volume"],
        sampling=config["sampling"],  # the ground truth's surface is what reconstructions are compared with
    log:
        "results/logs/reconstruct/{model}/{tag}/{object}.log",
    threads: config["threads"]["reconstruct"]
    resources:
        mem_mb=scale_with_attempt(config["resources"]["reconstruct"]["mem_mb"]),
        runtime=scale_with_attempt(config["resources"]["reconstruct"]["runtime"]),
    conda:
        "../envs/implicit3d.yaml"
    script:
        "../scripts/reconstruct.py"
