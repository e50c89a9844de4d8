rule aggregate:
    input:
        eval_paths,
    output:
        csv="results/summary.csv",
        parquet="results/summary.parquet",
        md="results/summary.md",
    log:
        "results/logs/aggregate.log",
    localrule: True
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../../environment.yml"
    script:
        "../scripts/aggregate.py"
