"""Snakemake adapter: one object's figures: SDF cross-sections, the reconstruction's rendering and
the sphere-traced SDF."""

from implicit3d.runlog import stage_log
from implicit3d.stages.figures import figures

with stage_log(snakemake.log[0], "figures"):
    figures(
        snakemake.input.model,
        snakemake.input.truth,
        snakemake.input.evaluation,
        snakemake.input.mesh,
        snakemake.input.metrics,
        outputs={"slices": snakemake.output.slices, "render": snakemake.output.render, "trace": snakemake.output.trace},
        title=f"{snakemake.wildcards.object} / {snakemake.wildcards.model}",
        params={k: getattr(snakemake.params, k) for k in ("slice_resolution", "domain", "sampling", "render_faces", "up", "training")},
        threads=snakemake.threads,
    )
