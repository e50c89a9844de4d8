"""The reconstruct stage: one model's zero level set by marching cubes, with Chamfer distance and
normal consistency against the ground truth's surface."""

from __future__ import annotations

import logging
import time

from .. import __version__
from ..io import write_json

log = logging.getLogger("implicit3d")


def reconstruct(
    model_in: str,
    truth_in: str,
    mesh_out: str,
    metrics_out: str,
    object_name: str,
    model_name: str,
    resolution: int = 128,
    domain: str = "sphere",
    surface_points: int = 100_000,
    threads: int = 1,
    sampling: dict | None = None,
) -> dict:
    """Reconstruct one object's surface, write it (implicit3d.meshfile) and its metrics as JSON.

    The reconstruction is compared with the surface of the ground truth that `sampling`
    (the config section) defines: under the `filled` sign the boundary of the filled
    solid, which is what the model learns; without `sampling`, the whole mesh."""
    import torch

    from ..groundtruth import GroundTruth, set_threads
    from ..meshfile import read_mesh, write_mesh
    from ..reconstruct import reconstruct_mesh, surface_metrics
    from ..training import load_model

    torch.set_num_threads(max(1, int(threads)))
    set_threads(max(1, int(threads)))
    model, _ = load_model(model_in)
    start = time.perf_counter()
    mesh = reconstruct_mesh(model, resolution, domain)
    seconds = time.perf_counter() - start
    truth = read_mesh(truth_in)
    if sampling is not None:
        truth = GroundTruth.from_config(truth, sampling).surface
    metrics = surface_metrics(mesh, truth, surface_points)
    write_mesh(mesh_out, mesh)
    record = {
        "object": object_name,
        "model": model_name,
        **metrics,
        "recon_resolution": resolution,
        "recon_domain": domain,
        "recon_vertices": 0 if mesh is None else int(len(mesh.vertices)),
        "recon_faces": 0 if mesh is None else int(len(mesh.faces)),
        "recon_seconds": seconds,
        "implicit3d_version": __version__,
    }
    write_json(metrics_out, record)
    if mesh is None:
        log.warning("reconstructed %s/%s: empty level set (the model predicts no inside); metrics are NaN", model_name, object_name)
    else:
        log.info("reconstructed %s/%s at %d^3: %d faces in %.1fs, chamfer %.4g, normal consistency %.4f",
                 model_name, object_name, resolution, len(mesh.faces), seconds, metrics["chamfer"], metrics["normal_consistency"])  # fmt: skip
    return record
