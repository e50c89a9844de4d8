"""The figures stage: one object and model's SDF slices, rendering and sphere tracing (PNG)."""

from __future__ import annotations

import logging

import torch
import trimesh

from ..figures import plot_render, plot_slices, plot_trace, slice_data
from ..groundtruth import GroundTruth
from ..io import read_json
from ..meshfile import read_mesh
from ..spheretrace import model_field, step_cap
from ..training import load_model

log = logging.getLogger("implicit3d")


def figures(model_in: str, truth_in: str, evaluation_in: str, recon_in: str, metrics_in: str, outputs: dict, title: str, params: dict, threads: int = 1) -> None:
    """The figures rule's figures: `outputs` names the file of each kind to draw (slices, render,
    trace); `params` holds the rule's settings (slice_resolution, domain, sampling, render_faces, up, training).
    The model and the meshes are read once for all the kinds."""
    model, _ = load_model(model_in)
    truth = read_mesh(truth_in)
    recon = read_mesh(recon_in) if {"render", "trace"} & set(outputs) else None
    if "slices" in outputs:
        slices(model, truth, outputs["slices"], title, params["slice_resolution"], params["domain"], evaluation_in, params["sampling"])
    if "render" in outputs:
        render(recon, truth, outputs["render"], title, metrics_in, params["render_faces"], params["up"])
    if "trace" in outputs:
        trace(model, recon, truth, outputs["trace"], title, cap=step_cap(params["training"]), bound=params["domain"],
              up=params["up"], max_faces=params["render_faces"], threads=threads)  # fmt: skip


def slices(
    model: torch.nn.Module,
    truth: trimesh.Trimesh,
    out: str,
    title: str = "",
    resolution: int = 200,
    domain: str = "sphere",
    eval_in: str | None = None,
    sampling: dict | None = None,
) -> None:
    """The slices figure; the ground truth is the one `sampling` (the config section) defines."""
    data = slice_data(model, GroundTruth.from_config(truth, sampling or {}), resolution)
    if eval_in:
        rec = read_json(eval_in)
        title += f"   F1 near {rec.get('f1_near', float('nan')):.4f}, volume {rec.get('f1_volume', float('nan')):.4f}"
    plot_slices(data, out, title, domain)
    log.info("wrote %s: SDF slices at %d^2 points per plane", out, resolution)


def render(recon: trimesh.Trimesh, truth: trimesh.Trimesh, out: str, title: str = "", metrics_in: str | None = None, max_faces: int = 1_000_000, up: str = "y") -> None:
    """The reconstruction rendered beside the ground-truth mesh, with its surface metrics."""
    label = f"reconstruction ({len(recon.faces):,} faces)"
    if metrics_in:
        rec = read_json(metrics_in)
        label += f"\nchamfer {rec['chamfer']:.4f}, normal consistency {rec['normal_consistency']:.3f}"
    plot_render(recon if len(recon.faces) else None, truth, out, title, label, max_faces, up)
    log.info("wrote %s: rendering of %d reconstructed faces (at most %d drawn)", out, len(recon.faces), max_faces)


def trace(
    model: torch.nn.Module,
    recon: trimesh.Trimesh,
    truth: trimesh.Trimesh,
    out: str,
    title: str = "",
    cap: float | None = 0.1,
    bound: str = "sphere",
    up: str = "y",
    max_faces: int = 1_000_000,
    resolution: int = 192,
    max_steps: int = 128,
    threads: int = 1,
) -> dict:
    """The sphere-tracing figure of a model; `cap` bounds each step (the loss clamp, see
    `spheretrace.step_cap`), `bound` is the sampled volume (sphere or cube)."""
    torch.set_num_threads(max(1, int(threads)))
    kwargs = {"resolution": resolution, "cap": cap, "bound": bound, "max_steps": max_steps}
    info = plot_trace(model_field(model), recon if len(recon.faces) else None, truth, out, title, up, max_faces, **kwargs)
    log.info("wrote %s: sphere tracing %s", out, ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in info.items()))
    return info
