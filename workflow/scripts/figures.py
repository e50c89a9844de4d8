"""Snakemake adapter: one object's figures: SDF cross-sections, the reconstruction's rendering and
the sphere-traced SDF."""

from implicit3d.chain import step_fingerprint
from implicit3d.runlog import stage_log
from implicit3d.stages.figures import figures

with stage_log(snakemake.log[0], "figures", fingerprint=step_fingerprint(snakemake), outputs=snakemake.output):
    figures(
        snakemake.input.model,
        snakemake.input.truth,
        snakemake.input.evaluation,
        getattr(snakemake.input, "mesh", None),  # the reconstruction, absent without products.reconstruction
        getattr(snakemake.input, "metrics", None),
        outputs={kind: getattr(snakemake.output, kind) for kind in snakemake.output.keys()},
        title=f"{snakemake.wildcards.object} / {snakemake.wildcards.model}",
        params=snakemake.params.figures,
        threads=snakemake.threads,
    )
