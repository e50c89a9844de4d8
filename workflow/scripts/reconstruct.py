"""Snakemake adapter: marching cubes of one model's zero level set, plus Chamfer and normal consistency."""

from implicit3d.chain import step_fingerprint
from implicit3d.runlog import stage_log
from implicit3d.stages.reconstruct import reconstruct

with stage_log(snakemake.log[0], "reconstruct", fingerprint=step_fingerprint(snakemake), outputs=snakemake.output):
    reconstruct(
        snakemake.input.model,
        snakemake.input.truth,
        snakemake.output.mesh,
        snakemake.output.metrics,
        object_name=snakemake.wildcards.object,
        model_name=snakemake.wildcards.model,
        resolution=snakemake.params.resolution,
        domain=snakemake.params.domain,
        surface_points=snakemake.params.surface_points,
        threads=snakemake.threads,
        sampling=dict(snakemake.params.sampling),
    )
