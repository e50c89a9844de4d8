"""One object's chain in one process: normalize, sample, then train, evaluate and (optionally)
reconstruct each model, writing the files the workflow's per-object rules write, at the same paths
relative to the output folder, with the same stage functions and config keys.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .config import model_spec
from .workflow import model_tag, sample_tag


@dataclass(frozen=True)
class ObjectFiles:
    """The per-object files under a results folder (`results/` in the workflow)."""

    root: Path
    object: str
    sample_tag: str
    model_tags: dict[str, str]

    @property
    def mesh(self) -> Path:
        return self.root / "normalized" / f"{self.object}.ply"

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

    def reconstruction(self, model: str, suffix: str = ".ply") -> Path:
        return self.root / "meshes" / model / self.model_tags[model] / f"{self.object}{suffix}"

    def log(self, stage: str, model: str | None = None) -> Path:
        if stage == "sample":
            return self.root / "logs" / stage / self.sample_tag / f"{self.object}.log"
        if model is None:
            return self.root / "logs" / stage / f"{self.object}.log"
        return self.root / "logs" / stage / model / self.model_tags[model] / f"{self.object}.log"


def object_files(root: str | os.PathLike, object_id: str, config: dict, models: list[str]) -> ObjectFiles:
    return ObjectFiles(Path(root), object_id, sample_tag(config), {m: model_tag(config, m) for m in models})


def fit_object(
    mesh: str | os.PathLike,
    out: str | os.PathLike,
    object_id: str,
    config: dict,
    models: list[str] | None = None,
    reconstruct: bool = False,
    report: Callable[[str], None] = print,
) -> list[dict]:
    """Run the chain for one mesh; returns each model's evaluation record (with the reconstruction's
    metrics when `reconstruct`). Every stage logs to the workflow's log path under `out/logs`; a
    failing stage raises SystemExit(1) after one line, as a workflow job does."""
    from .stages import evaluate, normalize, reconstruct, sample, train

    models = list(models or config["models"])
    files = object_files(out, object_id, config, models)
    threads, norm, rec = config["threads"], config.get("normalize", {}), config["reconstruct"]
    with _stage(files, "normalize", None, report):
        normalize(str(mesh), str(files.mesh), str(files.transform), norm.get("max_faces"), decimate=norm.get("decimate", False))
    with _stage(files, "sample", None, report):
        sample(str(files.mesh), str(files.samples), dict(config["sampling"]), threads=threads["sample"])
    records = []
    for model in models:
        model_file, info = str(files.model_file(model)), str(files.model_file(model, ".json"))
        with _stage(files, "train", model, report):
            spec = model_spec(config, model, object_id)
            train(str(files.samples), str(files.mesh), model_file, info, spec, threads=threads["train"], device=config["device"], progress=False)
        with _stage(files, "evaluate", model, report):
            record = evaluate(model_file, info, str(files.samples), str(files.evaluation(model)), object_id, model, threads=threads["evaluate"])
        if reconstruct:
            with _stage(files, "reconstruct", model, report):
                record.update(reconstruct(
                    model_file, str(files.mesh), str(files.reconstruction(model)), str(files.reconstruction(model, ".json")),
                    object_id, model, resolution=rec["resolution"], domain=config["sampling"]["volume"],
                    surface_points=rec["surface_points"], threads=threads["reconstruct"], sampling=dict(config["sampling"]),
                ))  # fmt: skip
        records.append(record)
    return records


@contextlib.contextmanager
def _stage(files: ObjectFiles, stage: str, model: str | None, report: Callable[[str], None]) -> Iterator[None]:
    """A stage's run, logged where the workflow logs it; one line with its time when it is done."""
    from .runlog import stage_log

    start = time.perf_counter()
    with stage_log(str(files.log(stage, model)), stage):
        yield
    report(f"{stage:<11} {model or '':<18} {time.perf_counter() - start:6.1f} s   log: {files.log(stage, model)}")
