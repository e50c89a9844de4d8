"""The sample stage: one object's test points with their ground-truth SDF."""

from __future__ import annotations

import logging

from .. import __version__
from ..groundtruth import set_threads
from ..io import write_points
from ..mesh import mesh_digest
from ..meshfile import read_mesh
from ..sampling import STORED_SPLITS, SamplingSpec, ground_truth, sample_splits

log = logging.getLogger("implicit3d")


def sample(mesh_in: str, points_out: str, sampling_cfg: dict, threads: int = 1) -> dict:
    """Sample the test points with ground-truth SDF (in `threads` threads) and write them as Parquet.

    The metadata records how they were drawn (sampling config, mesh digest): each train job
    draws its training pool from it (`sampling.training_pool`), which is never stored."""
    set_threads(threads)
    spec = SamplingSpec.from_config(sampling_cfg)
    mesh = read_mesh(mesh_in)
    truth = ground_truth(mesh, spec)
    frame, stats = sample_splits(mesh, spec, STORED_SPLITS, truth)
    meta = {
        "sampling": sampling_cfg,
        "ground_truth": truth.report(),  # method, sign, seal, and what the sign found
        "mesh_digest": mesh_digest(mesh),
        "gt_stats": stats,
        "implicit3d_version": __version__,
    }
    write_points(points_out, frame, meta)
    counts = frame.groupby(["split", "kind"], observed=True).size().to_dict()
    log.info(
        "sampled %s with %s (%s sign): %s; guards %s; ground truth %s; seconds %s",
        mesh_in, spec.method, spec.sign, counts, stats, meta["ground_truth"], {k: round(v, 2) for k, v in truth.seconds.items()},
    )
    return meta
