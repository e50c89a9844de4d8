"""Snakemake adapter: the interactive viewer, results/viewer.html (one offline page)."""

from implicit3d.runlog import stage_log
from implicit3d.viewer import entries_from_lists, write_viewer

with stage_log(snakemake.log[0], "viewer"):
    entries = entries_from_lists(snakemake.params.objects, snakemake.params.models, **dict(snakemake.params.files))
    write_viewer(
        entries,
        snakemake.output[0],
        max_faces=snakemake.params.max_faces,
        face_budget=snakemake.params.face_budget,
        max_points=snakemake.params.max_points,
        up=snakemake.params.up,
        categories=dict(snakemake.params.categories),
    )
