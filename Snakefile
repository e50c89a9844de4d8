# implicit3d: per-object neural SDFs from a folder of meshes.
# Run: snakemake --cores 2            (built-in sample)
#      snakemake --cores 2 --config meshes=../shared/data/test_task_meshes

import gc

from snakemake.utils import min_version

# Planning creates millions of small objects, and at Python's default threshold (700) the garbage
# collector took about 13 % of a 10,000-object dry run before shards. Collect far less often.
gc.freeze()
gc.set_threshold(100_000, 50, 100)

min_version("8.0")


configfile: "config/config.yaml"


from implicit3d.config import prepare

# Validated once against config/schema.yaml (one-line errors naming the key), then the schema's
# defaults filled in, except inside `architectures`/`overrides` entries (hashed into output tags as written).
prepare(config, f"{workflow.basedir}/config/schema.yaml")


include: "workflow/rules/common.smk"


if CHAIN:

    include: "workflow/rules/chain.smk"


include: "workflow/rules/collection.smk"
include: "workflow/rules/failures.smk"
include: "workflow/rules/normalize.smk"
include: "workflow/rules/sample.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/reconstruct.smk"
include: "workflow/rules/shard.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/tracking.smk"


report: "workflow/report/workflow.rst"


rule all:
    input:
        # A shard job's run makes its objects' files; the top-level run, the collection's.
        all_targets,
    default_target: True
