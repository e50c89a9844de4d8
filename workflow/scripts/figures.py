"""Snakemake adapter: one object's figures: SDF cross-sections and the reconstruction's rendering."""

from implicit3d.figures import render_figure, slices_figure
from implicit3d.runlog import stage_log

with stage_log(snakemake.log[0], "figures"):
    title = f"{snakemake.wildcards.object} / {snakemake.wildcards.model}"
    slices_figure(
        snakemake.input.model,
        snakemake.input.truth,
        snakemake.output.slices,
        title=title,
        resolution=snakemake.params.slice_resolution,
        domain=snakemake.params.domain,
        eval_in=snakemake.input.evaluation,
        sampling=dict(snakemake.params.sampling),
    )
    render_figure(
        snakemake.input.mesh,
        snakemake.input.truth,
        snakemake.output.render,
        title=title,
        metrics_in=snakemake.input.metrics,
        max_faces=snakemake.params.render_faces,
        up=snakemake.params.up,
    )
