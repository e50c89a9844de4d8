rule aggregate:
    input:
        evals=lambda wildcards: per_object(eval_paths(wildcards)),
        reconstructions=lambda wildcards: per_object(reconstruction_paths(wildcards)),
        collection="results/collection.csv",
        # Present after a failed run (failures.smk): then the next run rebuilds the summary.
        failure_marker=lambda wildcards: existing([FAILURE_MARKER]),
    params:
        evals=eval_paths,
        reconstructions=reconstruction_paths,
    output:
        csv=report(
            "results/summary.csv",
            category="Summary",
            labels={"figure": "summary table (CSV)"},
            caption="../report/summary.rst",
        ),
        parquet="results/summary.parquet",
        md="results/summary.md",
        failed="results/failed.csv",
    log:
        "results/logs/aggregate.log",
    localrule: True
    threads: 1
    resources:
        mem_mb=scale_with_attempt(1000),
        runtime=scale_with_attempt(5),
    conda:
        "../envs/implicit3d.yaml"
    script:
        "../scripts/aggregate.py"
