# Figures and the summary table for `snakemake --report results/report.html`.


rule figures:
    input:
        unpack(figure_inputs),
    output:
        **figure_outputs(),
    params:
        figures=lambda wc: figure_params(config, wc.object, wc.model),
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


# With products.figures_for = N, only each model's N worst objects (per category) get figures: this
# checkpoint names them once the summary exists, and the figures rule then draws them.
checkpoint worst:
    input:
        "results/summary.csv",
    output:
        "results/figures/worst.csv",
    params:
        worst=PRODUCTS.figures_for,
    log:
        "results/logs/worst.log",
    localrule: True
    threads: 1
    resources:
        mem_mb=scale_with_attempt(1000),
        runtime=scale_with_attempt(5),
    conda:
        "../envs/implicit3d.yaml"
    script:
        "../scripts/worst.py"


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


# results/viewer.html: one offline page (three.js inlined) with the ground truth and the
# reconstruction side by side per object and model, and the sign errors on test points.


rule viewer:
    input:
        per_object=lambda wildcards: per_object([p for paths in viewer_files().values() for p in paths]),
        # The page template and the vendored three.js, from the installed package: a new one redoes the page.
        template=str(viewer_assets.TEMPLATE),
        three=str(viewer_assets.THREE_JS),
    output:
        report(
            "results/viewer.html",
            category="Viewer",
            labels={"figure": "interactive viewer"},
            caption="../report/viewer.rst",
        ),
    params:
        objects=VIEWER_OBJECTS,
        categories=category_labels(VIEWER_OBJECTS),
        models=MODELS,
        files=viewer_files(),
        max_faces=20000,  # per mesh on the page (simplified beyond; the metrics use the full meshes),
        face_budget=400000,  # and over all its meshes: fewer each for many objects (2,000 at least)
        max_points=20000,  # test points per object and model whose sign errors are drawn
        up=config["figures"]["up_axis"],
    log:
        "results/logs/viewer.log",
    threads: 1
    resources:
        mem_mb=scale_with_attempt(config["resources"]["figures"]["mem_mb"]),
        # ~0.5 s per mesh (load, simplify, predict): a figures job's time per 200 meshes
        runtime=scale_with_attempt(
            config["resources"]["figures"]["runtime"] * (1 + len(VIEWER_OBJECTS) * (1 + len(MODELS)) // 200)
        ),
    conda:
        "../envs/implicit3d.yaml"
    script:
        "../scripts/viewer.py"
