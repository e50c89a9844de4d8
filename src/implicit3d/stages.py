"""File-to-file entry points of the pipeline stages (what the Snakemake scripts call)."""

from __future__ import annotations

import logging
import os
import platform
import time

import numpy as np

from . import __version__
from .devices import device_label, gpu_left_idle
from .groundtruth import inside_fraction_flag, set_threads
from .io import atomic_path, read_json, read_points, read_points_metadata, write_json, write_points
from .mesh import clean_mesh, decimate_mesh, load_mesh, load_normalized, mesh_digest, normalize_mesh
from .sampling import STORED_SPLITS, SamplingSpec, ground_truth, sample_splits, training_pool

# torch is imported inside the training and evaluation entry points only: the mesh
# and sampling jobs then start ~1 s faster, which adds up over hundreds of jobs.

log = logging.getLogger("implicit3d")


def normalize(mesh_in: str, mesh_out: str, transform_out: str, max_faces: int | None = None, decimate: bool = False) -> dict:
    """Load, validate, clean and normalize one mesh; write it as PLY plus its transform.

    Above `max_faces` the mesh fails, or with `decimate` is simplified down to it."""
    raw = load_mesh(mesh_in, max_faces=None if decimate else max_faces)
    cleaned = clean_mesh(raw, mesh_in)
    decimated = bool(decimate and max_faces is not None and len(cleaned.faces) > max_faces)
    if decimated:
        cleaned = decimate_mesh(cleaned, max_faces, mesh_in)
    mesh, transform = normalize_mesh(cleaned)
    info = {
        **transform.as_dict(),
        "source": os.fspath(mesh_in),
        "faces_in": int(len(raw.faces)),
        "faces": int(len(mesh.faces)),
        "vertices": int(len(mesh.vertices)),
        "watertight": bool(mesh.is_watertight),
        "bodies": int(mesh.body_count),
        "decimated": decimated,
    }
    with atomic_path(mesh_out) as tmp:
        mesh.export(tmp, file_type="ply")
    write_json(transform_out, info)
    log.info("normalized %s: %d -> %d faces, scale %.4g, watertight=%s", mesh_in, info["faces_in"], info["faces"], transform.scale, info["watertight"])
    return info


def sample(mesh_in: str, points_out: str, sampling_cfg: dict, threads: int = 1) -> dict:
    """Sample the test points with ground-truth SDF (in `threads` threads) and write them as Parquet.

    The metadata records how they were drawn (sampling config, mesh digest): each train job
    draws its training pool from it (`sampling.training_pool`), which is never stored."""
    set_threads(threads)
    spec = SamplingSpec.from_config(sampling_cfg)
    mesh = load_normalized(mesh_in)
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


def train(
    points_in: str, mesh_in: str, model_out: str, info_out: str, model_cfg: dict, threads: int = 1, device: str = "auto", progress: bool = True
) -> dict:
    """Train one model on the train split, early-stopping on the val split; both are drawn here, in
    memory from the normalized mesh `mesh_in`, as the samples file `points_in` records (`sampling.training_pool`)."""
    import torch

    from .models import build_model
    from .training import TrainConfig, config_dict, resolve_device, save_model, train_with_retry

    torch.set_num_threads(max(1, int(threads)))
    set_threads(max(1, int(threads)))  # the pool's ground truth too
    dev = resolve_device(device)  # before the pool: a device that cannot train fails at once
    if idle := gpu_left_idle(device):
        log.warning(idle)
    meta = read_points_metadata(points_in)
    start = time.perf_counter()
    frame, pool_stats = training_pool(load_normalized(mesh_in), meta, source=mesh_in)
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
        "host": platform.node(),
        "history": result.history,
    }
    write_json(info_out, info)
    log.info("trained %s on %s: %d steps in %.1fs, %d bytes", arch, points_in, result.steps, result.seconds, model_bytes)
    return info


def gt_sign(meta: dict) -> str | None:
    """The sign convention a samples file was made with (None for the comparison backends)."""
    truth = meta.get("ground_truth")
    if truth is not None:
        return truth.get("sign")
    return meta.get("sampling", {}).get("sign")


def evaluate(model_in: str, info_in: str, points_in: str, out: str, object_name: str, model_name: str, threads: int = 1) -> dict:
    """Occupancy metrics on the held-out test split, plus size and speed figures."""
    import torch

    from .evaluation import evaluate_points, inference_throughput
    from .training import load_model

    torch.set_num_threads(max(1, int(threads)))
    frame, meta = read_points(points_in)
    test = frame[frame["split"] == "test"]
    model, ckpt = load_model(model_in)
    info = read_json(info_in)
    metrics = evaluate_points(model, test)
    throughput = inference_throughput(model, test[["x", "y", "z"]].to_numpy(np.float32))
    record = {
        "object": object_name,
        "model": model_name,
        **metrics,
        "model_bytes": ckpt["model_bytes"],
        "train_seconds": info["train_seconds"],
        "step_ms": info["step_ms"],
        "steps": info["steps"],
        "infer_points_per_s": throughput,
        "gt_method": meta["sampling"].get("method"),
        "gt_sign": gt_sign(meta),
        "gt_flag": inside_fraction_flag(metrics.get("inside_fraction_volume", float("nan")), gt_sign(meta)),
        "device": info["device"],
    }
    write_json(out, record)
    log.info("evaluated %s/%s: F1 near %.4f, volume %.4f", model_name, object_name, metrics.get("f1_near", np.nan), metrics.get("f1_volume", np.nan))
    return record
