"""A configuration through the real pipeline stages (`implicit3d.stages`): normalize and sample an
object once, then train and evaluate each variant on the same test points, as the workflow does."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from implicit3d.config import RENAMED_ARCHITECTURES, model_spec
from implicit3d.stages import normalize, sample
from implicit3d.workflow import config_tag

from . import runner
from .revisions import tree_env


@dataclass(frozen=True)
class Prepared:
    """One object as the stages leave it before training: the normalized mesh and its test points."""

    name: str
    mesh: Path
    points: Path
    info: dict


def prepare(name: str, source: Path, config: dict, work: Path) -> Prepared:
    """Normalize `source` and sample its test points with config["sampling"], through the stages;
    kept in `work` (normalized/<tag>/, samples/<tag>/) and reused when there."""
    mesh = normalize_once(name, source, config, work)
    points = work / "samples" / config_tag(config["sampling"], str(mesh)) / f"{name}.parquet"
    if not points.is_file():
        sample(str(mesh), str(points), config["sampling"])
    return Prepared(name, mesh, points, json.loads(mesh.with_suffix(".json").read_text()))


def normalize_once(name: str, source: Path, config: dict, work: Path) -> Path:
    """The normalize stage's mesh of `source` (work/normalized/<tag>/<name>.ply, the tag from the
    source's path and the normalize settings; its transform beside it), made once."""
    folder = work / "normalized" / config_tag(str(source.resolve()), config["normalize"])
    mesh, transform = folder / f"{name}.ply", folder / f"{name}.json"
    if not (mesh.is_file() and transform.is_file()):
        normalize(str(source), str(mesh), str(transform), config["normalize"]["max_faces"], config["normalize"]["decimate"])
    return mesh


@dataclass(frozen=True)
class Variant:
    """What to train: a label, the model's spec (arch, params, training), the sampling config whose
    training pool it draws, where its code lives (None: this checkout, in this process), and
    environment variables for its process (a value None unsets one; only with a tree)."""

    label: str
    spec: dict
    sampling: dict
    tree: Path | None = field(default=None, compare=False)
    env: dict[str, str | None] = field(default_factory=dict, compare=False)


def renamed(name: str) -> str:
    """An architecture's (or a family's) current name; an old one still works, with a one-line notice."""
    if name in RENAMED_ARCHITECTURES:
        print(f"'{name}' is now named '{RENAMED_ARCHITECTURES[name]}'; the old name still works", file=sys.stderr)
    return RENAMED_ARCHITECTURES.get(name, name)


def variant(config: dict, label: str, arch: str, params: dict | None = None, training: dict | None = None,
            pool: dict | None = None) -> Variant:  # fmt: skip
    """The architecture `arch` of `config` (an old name too) with changes to its params and training,
    and to the training pool (`pool`: keys of sampling.train, e.g. near_count, near_std)."""
    spec = model_spec(config, renamed(arch))
    spec["params"].update(params or {})
    spec["training"].update(training or {})
    sampling = copy.deepcopy(config["sampling"])
    sampling["train"].update(pool or {})
    return Variant(label, spec, sampling)


def train_variant(prepared: Prepared, chosen: Variant, config: dict, work: Path, threads: int = 1) -> dict:
    """Train `chosen` on `prepared` with the train stage and test it with the evaluate stage; one row:
    the stages' times, steps and bytes and the test split's metrics. The pool follows the variant's
    sampling config, whose test points are the same (each split has its own random stream)."""
    points = prepared if chosen.sampling == config["sampling"] else prepare(prepared.name, Path(prepared.info["source"]), {**config, "sampling": chosen.sampling}, work)
    out = work / "models" / config_tag(chosen.label, chosen.spec, chosen.sampling, str(chosen.tree)) / prepared.name
    out.parent.mkdir(parents=True, exist_ok=True)
    task = {"points": str(points.points), "mesh": str(points.mesh), "out": str(out), "name": prepared.name,
            "label": chosen.label, "spec": chosen.spec, "threads": threads}  # fmt: skip
    result = runner.train(task) if chosen.tree is None else run_in_tree(chosen.tree, "train", task, threads, chosen.env)
    metrics = {k: v for k, v in result["metrics"].items() if k not in ("object", "model")}
    return {"variant": chosen.label, "object": prepared.name, **result["info"], **metrics, "model_path": f"{out}.pt", "eval_path": f"{out}_eval.json"}


def run_in_tree(tree: Path, command: str, task: dict, threads: int = 1, env: dict[str, str | None] | None = None) -> dict:
    """`runner.py command task` in a fresh process on `tree`'s package (with the changes `env` to its
    environment); its JSON result."""
    done = subprocess.run([sys.executable, runner.__file__, command, json.dumps(task)], cwd=tree, env=tree_env(tree, threads, env),
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode:
        raise SystemExit(f"error: {tree}: runner {command} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
