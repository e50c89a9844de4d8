# Metrics and plot files that dvc.yaml declares (`dvc metrics show/diff`, `dvc plots show`).


rule tracking:
    input:
        "results/summary.csv",
    output:
        metrics="results/metrics.json",
        f1="results/plots/f1.csv",
    log:
        "results/logs/tracking.log",
    localrule: True
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../../environment.yml"
    script:
        "../scripts/tracking.py"
