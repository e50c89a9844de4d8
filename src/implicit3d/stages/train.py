"""The train stage: one model for one object (torch is imported here only: the mesh and sampling
jobs start faster without it)."""

from __future__ import annotations

import logging
import platform
import time

from .. import __version__
from ..devices import device_label, gpu_left_idle
from ..groundtruth import set_threads
from ..io import read_points_metadata, write_json
from ..meshfile import read_mesh
from ..sampling import training_pool

log = logging.getLogger("implicit3d")


def train(
    points_in: str, mesh_in: str, model_out: str, info_out: str, model_cfg: dict, threads: int = 1, device: str = "auto", progress: bool = True
) -> dict:
    """Train one model on the train split, early-stopping on the val split; both are drawn here, in
    memory from the normalized mesh `mesh_in`, as the samples file `points_in` records (`sampling.training_pool`)."""
    import torch

    from ..models import build_model
    from ..training import TrainConfig, config_dict, resolve_device, save_model, train_with_retry

    torch.set_num_threads(max(1, int(threads)))
    set_threads(max(1, int(threads)))  # the pool's ground truth too
    dev = resolve_device(device)  # before the pool: a device that cannot train fails at once
    if idle := gpu_left_idle(device):
        log.warning(idle)
    meta = read_points_metadata(points_in)
    start = time.perf_counter()
    frame, pool_stats = training_pool(read_mesh(mesh_in), meta, source=mesh_in)
    pool_seconds = time.perf_counter() - start
    log.info("drew the training pool from %s: %d train, %d val points in %.1f s; guards %s",
             mesh_in, (frame["split"] == "train").sum(), (frame["split"] == "val").sum(), pool_seconds, pool_stats)  # fmt: skip
    train_part = frame[frame["split"] == "train"]
    val_part = frame[frame["split"] == "val"]
    arch, hparams = model_cfg["arch"], dict(model_cfg.get("params", {}))
    cfg = TrainConfig.from_dict(model_cfg.get("training", {}))

    def fresh_model():  # seeded, so a retry starts from the same initial weights
        torch.manual_seed(cfg.seed)
        return build_model(arch, **hparams)

    model, result = train_with_retry(
        fresh_model,
        train_part[["x", "y", "z"]].to_numpy(),
        train_part["sdf"].to_numpy(),
        val_part[["x", "y", "z"]].to_numpy(),
        val_part["sdf"].to_numpy(),
        cfg=cfg,
        device=dev,
        progress=progress,
        desc=f"train {arch}",
        near_mask=(train_part["kind"] == "near").to_numpy(),
    )
    model_bytes = save_model(model_out, model, arch, hparams, cfg.weight_dtype, cfg.weight_coding)
    info = {
        "arch": arch,
        "params": hparams,
        "training": config_dict(cfg),
        "model_bytes": model_bytes,
        "pool": {"train": len(train_part), "val": len(val_part), "gt_stats": pool_stats},
        "pool_seconds": pool_seconds,
        "train_seconds": result.seconds,
        "steps": result.steps,
        "step_ms": result.step_ms,
        "best_step": result.best_step,
        "best_val_loss": result.best_val_loss,
        "retried_lower_lr": result.retried,
        "lr_used": result.lr,
        "batch_size_used": result.batch_size,  # below the configured one after CUDA out-of-memory
        "device": device_label(str(dev), device),
        "threads": int(threads),
        "torch": torch.__version__,
        "implicit3d_version": __version__,
        "host": platform.node(),
        "history": result.history,
    }
    write_json(info_out, info)
    log.info("trained %s on %s: %d steps in %.1fs, %d bytes", arch, points_in, result.steps, result.seconds, model_bytes)
    return info
