# Metrics and plot files that dvc.yaml declares (`dvc metrics show/diff`, `dvc plots show`).


rule tracking:
    input:
        summary="results/summary.csv",
        # training records (their loss history) of the current models, not older tags beside them
        infos=per_object(info_paths()),
    output:
        metrics="results/metrics.json",  # quality and size: the same on any CPU
        timings="results/timings.json",  # this machine's speed
        f1="results/plots/f1.csv",
        loss=expand("results/plots/loss/{model}.csv", model=MODELS),  # training curves; other models' are removed
    params:
        infos={m: [f"results/models/{m}/{MODEL_TAGS[m]}/{o}.json" for o in OBJECTS] for m in MODELS},
    log:
        "results/logs/tracking.log",
    localrule: True
    threads: 1
    resources:
        mem_mb=scale_with_attempt(1000),
        runtime=scale_with_attempt(5),
    conda:
        "../envs/implicit3d.yaml"
    script:
        "../scripts/tracking.py"
