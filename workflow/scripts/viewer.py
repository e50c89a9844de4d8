"""Snakemake adapter: the interactive viewer, results/viewer.html (one offline page)."""

from implicit3d.runlog import stage_log
from implicit3d.stages.viewer import viewer

with stage_log(snakemake.log[0], "viewer"):
    p = snakemake.params
    viewer(list(p.objects), list(p.models), dict(p.files), snakemake.output[0], categories=dict(p.categories),
           max_faces=p.max_faces, face_budget=p.face_budget, max_points=p.max_points, up=p.up)  # fmt: skip
