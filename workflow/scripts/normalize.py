"""Snakemake adapter: normalize one mesh."""

from implicit3d.chain import step_fingerprint
from implicit3d.runlog import stage_log
from implicit3d.stages.normalize import normalize

with stage_log(snakemake.log[0], "normalize", fingerprint=step_fingerprint(snakemake), outputs=snakemake.output):
    normalize(
        snakemake.input[0],
        snakemake.output.mesh,
        snakemake.output.transform,
        snakemake.params.max_faces,
        decimate=snakemake.params.decimate,
    )
