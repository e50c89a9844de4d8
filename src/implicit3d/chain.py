"""One object's chain in one process: normalize, sample, then train, evaluate, reconstruct and draw
each model, writing the files the workflow's per-stage rules write, at the same paths relative to
the output folder, with the same stage functions and config keys.

Each stage leaves a record beside its log (`<log>.done`, in either mode) with a fingerprint of the
settings its outputs depend on. With `skip_fresh`, a stage whose outputs exist, are newer than its
inputs and carry the current fingerprint is not run again: a chain rerun after a failure or a kill
redoes only what is missing or stale, as Snakemake would in steps.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .config import model_spec
from .formats import MESH_SUFFIX
from .products import Products
from .runlog import done_record_path, file_digest, stage_log
from .workflow import config_tag, model_tag, sample_tag


@dataclass(frozen=True)
class ObjectFiles:
    """The per-object files under a results folder (`results/` in the workflow)."""

    root: Path
    object: str
    sample_tag: str
    model_tags: dict[str, str]

    @property
    def mesh(self) -> Path:
        return self.root / "normalized" / f"{self.object}{MESH_SUFFIX}"

    @property
    def transform(self) -> Path:
        return self.root / "normalized" / f"{self.object}.json"

    @property
    def samples(self) -> Path:
        return self.root / "samples" / self.sample_tag / f"{self.object}.parquet"

    def model_file(self, model: str, suffix: str = ".pt") -> Path:
        return self.root / "models" / model / self.model_tags[model] / f"{self.object}{suffix}"

    def evaluation(self, model: str) -> Path:
        return self.root / "eval" / model / self.model_tags[model] / f"{self.object}.json"

    def reconstruction(self, model: str, suffix: str = MESH_SUFFIX) -> Path:
        return self.root / "meshes" / model / self.model_tags[model] / f"{self.object}{suffix}"

    def figure(self, model: str, kind: str) -> Path:
        return self.root / "figures" / model / self.model_tags[model] / f"{self.object}_{kind}.png"

    def log(self, stage: str, model: str | None = None) -> Path:
        if stage == "sample":
            return self.root / "logs" / stage / self.sample_tag / f"{self.object}.log"
        if model is None:
            return self.root / "logs" / stage / f"{self.object}.log"
        return self.root / "logs" / stage / model / self.model_tags[model] / f"{self.object}.log"


def object_files(root: str | os.PathLike, object_id: str, config: dict, models: list[str]) -> ObjectFiles:
    return ObjectFiles(Path(root), object_id, sample_tag(config), {m: model_tag(config, m) for m in models})


def stage_settings(stage: str, config: dict, object_id: str, model: str | None = None) -> dict:
    """The config values a stage's outputs depend on beyond its input files (and its tagged paths):
    what a rerun must compare, as Snakemake compares a rule's params."""
    if stage == "normalize":
        return {"normalize": config.get("normalize", {})}
    if stage == "sample":
        return {"sampling": config["sampling"]}
    if stage == "train":
        return {"spec": model_spec(config, model, object_id), "device": config["device"]}
    if stage == "reconstruct":
        return {"reconstruct": config["reconstruct"], "sampling": config["sampling"]}
    if stage == "figures":
        training = model_spec(config, model, object_id)["training"]
        return {"figures": config["figures"], "sampling": config["sampling"], "training": training, "kinds": list(Products.from_config(config).figures)}
    return {}


def stage_fingerprint(stage: str, config: dict, object_id: str, model: str | None = None) -> str:
    return config_tag(stage, stage_settings(stage, config, object_id, model))


def step_fingerprint(snakemake) -> str:
    """The fingerprint of a per-object rule's job (a Snakemake script's `snakemake` object): its rule
    is its stage, its wildcards name the object and model."""
    wildcards = snakemake.wildcards
    return stage_fingerprint(snakemake.rule, snakemake.config, wildcards.object, getattr(wildcards, "model", None))


def is_fresh(log: Path, fingerprint: str, inputs: list[Path], outputs: list[Path]) -> bool:
    """Every output exists and is newer than every input; and the stage's record (runs before records
    existed left none) holds `fingerprint` and each output's content as the stage left it (so a file
    put back or replaced since, by hand or by Snakemake, counts as stale)."""
    if not all(p.exists() for p in outputs):
        return False
    if min(p.stat().st_mtime for p in outputs) < max((p.stat().st_mtime for p in inputs if p.exists()), default=0.0):
        return False
    record = done_record_path(log)
    if not record.exists():
        return True
    try:
        done = json.loads(record.read_text())
    except ValueError:
        return False
    made = done.get("outputs", {})
    return done.get("fingerprint") == fingerprint and all(made.get(str(p)) == file_digest(p) for p in outputs)


def fit_object(
    mesh: str | os.PathLike,
    out: str | os.PathLike,
    object_id: str,
    config: dict,
    models: list[str] | None = None,
    products: Products | None = None,
    report: Callable[[str], None] = print,
    skip_fresh: bool = False,
) -> list[dict]:
    """Run the chain for one mesh; returns each model's evaluation record (with the reconstruction's
    metrics when made). Every stage logs to the workflow's log path under `out/logs`; a failing
    stage raises SystemExit(1) after one line, as a workflow job does."""
    from .io import read_json
    from .stages import evaluate, normalize, reconstruct, sample, train

    models = list(models or config["models"])
    products = products or Products.from_config(config)
    files = object_files(out, object_id, config, models)
    threads, norm, rec, vol = config["threads"], config.get("normalize", {}), config["reconstruct"], config["sampling"]["volume"]

    def run(stage: str, model: str | None, inputs: list[Path], outputs: list[Path], call: Callable, *args, **kwargs) -> bool:
        """Run one stage, logged and recorded where the workflow's rule would; False when it was fresh."""
        log, fingerprint = files.log(stage, model), stage_fingerprint(stage, config, object_id, model)
        if skip_fresh and is_fresh(log, fingerprint, inputs, outputs):
            report(f"{stage:<11} {model or '':<18}  fresh   log: {log}")
            return False
        start = time.perf_counter()
        with stage_log(str(log), stage, fingerprint=fingerprint, outputs=outputs):
            call(*(str(a) if isinstance(a, Path) else a for a in args), **kwargs)
        report(f"{stage:<11} {model or '':<18} {time.perf_counter() - start:6.1f} s   log: {log}")
        return True

    run("normalize", None, [Path(mesh)], [files.mesh, files.transform], normalize, mesh, files.mesh, files.transform,
        norm.get("max_faces"), decimate=norm.get("decimate", False))  # fmt: skip
    run("sample", None, [files.mesh], [files.samples], sample, files.mesh, files.samples, dict(config["sampling"]), threads=threads["sample"])
    records = []
    for m in models:
        model_file, info, evaluation = files.model_file(m), files.model_file(m, ".json"), files.evaluation(m)
        recon, recon_info = files.reconstruction(m), files.reconstruction(m, ".json")
        run("train", m, [files.samples, files.mesh], [model_file, info], train, files.samples, files.mesh, model_file, info,
            model_spec(config, m, object_id), threads=threads["train"], device=config["device"])  # fmt: skip
        run("evaluate", m, [model_file, info, files.samples], [evaluation], evaluate, model_file, info, files.samples, evaluation,
            object_id, m, threads=threads["evaluate"])  # fmt: skip
        record = read_json(evaluation)
        if products.reconstruction:
            run("reconstruct", m, [model_file, files.mesh], [recon, recon_info], reconstruct, model_file, files.mesh, recon, recon_info,
                object_id, m, resolution=rec["resolution"], domain=vol, surface_points=rec["surface_points"],
                threads=threads["reconstruct"], sampling=dict(config["sampling"]))  # fmt: skip
            record.update(read_json(recon_info))
        if products.per_object_figures:
            outputs = {kind: files.figure(m, kind) for kind in products.per_object_figures}
            inputs = [model_file, files.mesh, evaluation] + ([recon, recon_info] if products.reconstruction else [])
            run("figures", m, inputs, list(outputs.values()), object_figures, config, object_id, m, model_file, files.mesh, evaluation,
                recon, recon_info, {k: str(v) for k, v in outputs.items()})  # fmt: skip
        records.append(record)
    return records


def object_figures(config: dict, object_id: str, model: str, model_file, mesh, evaluation, recon, recon_info, outputs: dict) -> None:
    """The figures stage as the figures rule runs it, with its settings from `config`."""
    from .stages.figures import figures

    figures(str(model_file), str(mesh), str(evaluation), str(recon), str(recon_info), outputs, f"{object_id} / {model}",
            figure_params(config, object_id, model), threads=config["threads"]["figures"])  # fmt: skip


def figure_params(config: dict, object_id: str, model: str) -> dict:
    """The figures stage's settings for one object and model, for the figures rule and the chain alike."""
    return {
        "slice_resolution": config["figures"]["slice_resolution"],
        "domain": config["sampling"]["volume"],
        "sampling": config["sampling"],  # the slices' ground truth
        "render_faces": config["figures"]["render_faces"],
        "up": config["figures"]["up_axis"],
        "training": model_spec(config, model, object_id)["training"],  # the trace's step cap: the loss clamp
    }
