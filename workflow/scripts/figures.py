"""Snakemake adapter: one object's figures: SDF cross-sections, the reconstruction's rendering and
the sphere-traced SDF."""

from implicit3d.figures import render_figure, slices_figure, trace_figure
from implicit3d.runlog import stage_log
from implicit3d.spheretrace import step_cap

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
    trace_figure(
        snakemake.input.model,
        snakemake.input.mesh,
        snakemake.input.truth,
        snakemake.output.trace,
        title=title,
        cap=step_cap(dict(snakemake.params.training)),
        bound=snakemake.params.domain,
        up=snakemake.params.up,
        max_faces=snakemake.params.render_faces,
        threads=snakemake.threads,
    )
