# Figures and the summary table for `snakemake --report results/report.html`.


rule figures:
    input:
        model="results/models/{model}/{tag}/{object}.pt",
        truth="results/normalized/{object}.ply",
        evaluation="results/eval/{model}/{tag}/{object}.json",
        mesh="results/meshes/{model}/{tag}/{object}.ply",
        metrics="results/meshes/{model}/{tag}/{object}.json",
    output:
        slices=report(
            "results/figures/{model}/{tag}/{object}_slices.png",
            category="Objects",
            subcategory="{model}",
            labels={"object": "{object}", "figure": "SDF slices"},
            caption="../report/slices.rst",
        ),
        render=report(
            "results/figures/{model}/{tag}/{object}_render.png",
            category="Objects",
            subcategory="{model}",
            labels={"object": "{object}", "figure": "reconstruction"},
            caption="../report/render.rst",
        ),
    params:
        slice_resolution=config["figures"]["slice_resolution"],
        domain=config["sampling"]["volume"],
        sampling=config["sampling"],  # the slices' ground truth
        render_faces=config["figures"]["render_faces"],
        up=config["figures"]["up_axis"],
    log:
        "results/logs/figures/{model}/{tag}/{object}.log",
    threads: config["threads"]["figures"]
    resources:
        mem_mb=scale_with_attempt(config["resources"]["figures"]["mem_mb"]),
        runtime=scale_with_attempt(config["resources"]["figures"]["runtime"]),
    conda:
        "../envs/implicit3d.yaml"
    script:
        "../scripts/figures.py"


rule summary_report:
    input:
        "results/summary.csv",
    output:
        table=report(
            "results/summary.html",
            category="Summary",
            labels={"figure": "summary table"},
            caption="../report/summary.rst",
        ),
        f1=report(
            "results/figures/f1_near_vs_volume.png",
            category="Summary",
            labels={"figure": "F1 near vs volume"},
            caption="../report/f1_scatter.rst",
        ),
    log:
        "results/logs/summary_report.log",
    localrule: True
    threads: 1
    resources:
        mem_mb=scale_with_attempt(config["resources"]["figures"]["mem_mb"]),
        runtime=scale_with_attempt(config["resources"]["figures"]["runtime"]),
    conda:
        "../envs/implicit3d.yaml"
    script:
        "../scripts/summary_report.py"


rule figure_size:
    input:
        "results/summary.csv",
    output:
        report(
            "results/figures/size_vs_f1.png",
            category="Summary",
            labels={"figure": "model size vs F1"},
            caption="../report/size_f1.rst",
        ),
    log:
        "results/logs/figure_size.log",
    localrule: True
    threads: 1
    resources:
        mem_mb=scale_with_attempt(config["resources"]["figures"]["mem_mb"]),
        runtime=scale_with_attempt(config["resources"]["figures"]["runtime"]),
    conda:
        "../envs/implicit3d.yaml"
    script:
        "../scripts/figure_size.py"

