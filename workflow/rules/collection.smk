# The objects this run takes, with their mesh files and labels (category, split): results/collection.csv,
# which the summary joins. It is made again when an object or a label changes.


rule collection:
    output:
        "results/collection.csv",
    params:
        digest=COLLECTION.digest(),
    log:
        "results/logs/collection.log",
    localrule: True
    threads: 1
    resources:
        mem_mb=scale_with_attempt(1000),
        runtime=scale_with_attempt(5),
    conda:
        "../envs/implicit3d.yaml"
    script:
        "../scripts/collection.py"
