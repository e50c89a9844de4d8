"""One benchmark run: its command-line options, the configuration, the meshes, a work folder and its page.

Every benchmark takes the same options: `--meshes` (default: the reference meshes), `--objects`,
`--baseline REV` where it compares with another revision, `--out` (where its page goes),
`--work` (keep and reuse normalized meshes and samples) and `--smoke` (tiny data: two small meshes
of the built-in sample, few points, a few training steps; what the test suite runs)."""

from __future__ import annotations

import argparse
import copy
import dataclasses
import sys
import tempfile
from contextlib import nullcontext
from pathlib import Path

import pandas as pd
import yaml

from implicit3d.config import model_spec, rename_architectures
from implicit3d.meshfile import read_mesh

from . import pages
from .meshes import REFERENCE_MESHES, REPO, SAMPLE_MESHES, SMOKE_OBJECTS, find_meshes
from .revisions import checkout
from .stages import Prepared, Variant, normalize_once, prepare, train_variant, variant

# --smoke: what every training and sampling is cut down to.
SMOKE_SAMPLING = {
    "train": {"near_count": 3000, "near_std": [0.003, 0.01], "volume_count": 1500},
    "val": {"near_count": 300, "near_std": 0.01, "volume_count": 300},
    "test": {"near_count": 1000, "near_std": 0.01, "volume_count": 1000},
}
SMOKE_TRAINING = {"steps": 6, "batch_size": 512, "val_every": 3}
SMOKE_CONFIG = {
    "sampling": SMOKE_SAMPLING,
    "reconstruct": {"resolution": 16, "surface_points": 1000},
    "figures": {"slice_resolution": 32, "render_faces": 2000},
}


def parser(doc: str, objects: str = "", baseline: bool = False, meshes: bool = True) -> argparse.ArgumentParser:
    """The options every benchmark shares; `doc` (the module docstring) is the help text."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    if meshes:
        p.add_argument("--meshes", type=Path, default=REFERENCE_MESHES, help="folder of meshes (default: the reference meshes)")
        p.add_argument("--objects", default=objects, help=f"comma-separated mesh names, file stems (default: {objects or 'every mesh'})")
    if baseline:
        p.add_argument("--baseline", metavar="REV", default="", help="also run this git revision (a commit, tag or branch), checked out in a git worktree")
    p.add_argument("--out", type=Path, default=pages.RESULTS, help="folder of the result page (default: docs/results)")
    p.add_argument("--work", type=Path, help="keep normalized meshes, samples and models here, and reuse them (default: a temporary folder)")
    p.add_argument("--smoke", action="store_true", help="tiny data and a few steps, in seconds: checks that the benchmark runs")
    return p


def smoke_spec(spec: dict) -> dict:
    spec = copy.deepcopy(spec)
    spec.setdefault("training", {}).update(SMOKE_TRAINING)
    return spec


def smoke_sampling(sampling: dict) -> dict:
    sampling = copy.deepcopy(sampling)
    for split, counts in SMOKE_SAMPLING.items():
        sampling[split].update({k: v for k, v in counts.items() if k != "near_std"})
    return sampling


class Bench:
    """What a benchmark's main() works with: `Bench(__file__, __doc__, args, argv)` in a `with` block
    (`argv`: the list main() was given, None for the command line)."""

    def __init__(self, file: str, doc: str, args: argparse.Namespace, argv: list[str] | None = None):
        self.name, self.doc, self.args, self.argv = Path(file).stem, doc, args, argv
        self.smoke = args.smoke
        config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
        if self.smoke:
            config = {**config, **{k: {**config[k], **v} for k, v in SMOKE_CONFIG.items()}}
            config["architectures"] = {n: smoke_spec(s) for n, s in config["architectures"].items()}
        self.config = config
        self._work = tempfile.TemporaryDirectory(prefix=f"implicit3d-{self.name}-") if args.work is None else None
        self.work = Path(self._work.name) if self._work else args.work
        self.work.mkdir(parents=True, exist_ok=True)

    def __enter__(self) -> Bench:
        return self

    def __exit__(self, *exc) -> None:
        if self._work is not None:
            self._work.cleanup()

    def meshes(self, smoke_count: int = 1) -> dict[str, Path]:
        """The mesh file of each of --objects (every mesh when empty), by name; --smoke: small sample meshes."""
        if self.smoke:
            return find_meshes(SAMPLE_MESHES, list(SMOKE_OBJECTS[:smoke_count]))
        return find_meshes(self.args.meshes, [o for o in self.args.objects.split(",") if o])

    def prepare(self, name: str, source: Path) -> Prepared:
        """The object normalized and its test points sampled, by the stages (kept in the work folder)."""
        return prepare(name, source, self.config, self.work)

    def normalized_file(self, name: str, source: Path) -> Path:
        """The normalize stage's mesh file of the object (its transform beside it, .json), without sampling it."""
        return normalize_once(name, source, self.config, self.work)

    def normalized(self, name: str, source: Path):
        """The object as the normalize stage leaves it (a trimesh), without sampling it."""
        return read_mesh(self.normalized_file(name, source))

    def mesh_folder(self, folder: Path) -> Path:
        """`folder` holding a link to the mesh file of each of `meshes()`: a collection of just those, for workflow runs."""
        folder.mkdir(parents=True, exist_ok=True)
        for path in self.meshes().values():
            (folder / path.name).symlink_to(path.resolve())
        return folder

    def variant(self, label: str, arch: str, params: dict | None = None, training: dict | None = None, pool: dict | None = None) -> Variant:
        chosen = variant(self.config, label, arch, params, training, pool)
        if self.smoke:  # the variant's own changes are cut down too
            chosen = Variant(chosen.label, smoke_spec(chosen.spec), smoke_sampling(chosen.sampling))
        return chosen

    def baseline_variant(self, tree: Path, arch: str) -> Variant:
        """`arch` as the baseline revision's own config defines it, trained by the baseline's code."""
        config = yaml.safe_load((tree / "config" / "config.yaml").read_text())
        rename_architectures(config)
        spec = model_spec(config, arch)
        return Variant(f"{self.args.baseline} ({tree.name}) {arch}", smoke_spec(spec) if self.smoke else spec, self.config["sampling"], tree)

    def train(self, prepared: Prepared, chosen: Variant, threads: int = 1) -> dict:
        """One row of `train_variant`. Beside a baseline, which runs in its own processes, this checkout's
        trainings do too: each then pays a fresh process's start (the compiled kernels' loading), as a job does."""
        if chosen.tree is None and self.has_baseline:
            chosen = dataclasses.replace(chosen, tree=REPO)
        return train_variant(prepared, chosen, self.config, self.work, threads)

    @property
    def has_baseline(self) -> bool:
        return bool(getattr(self.args, "baseline", ""))

    def baseline(self):
        """`with b.baseline() as tree:` a checkout of --baseline in the block (None without one)."""
        return checkout(self.args.baseline) if self.has_baseline else nullcontext(None)

    def workflow_changes(self, tree: Path) -> dict:
        """What a workflow run in `tree` changes in its config: with --smoke, the tiny sampling and training."""
        if not self.smoke:
            return {}
        names = yaml.safe_load((tree / "config" / "config.yaml").read_text())["architectures"]
        return {**SMOKE_CONFIG, "architectures": {name: {"training": SMOKE_TRAINING} for name in names}}

    def page(self, title: str, sections: list[tuple[str, pd.DataFrame | str]], name: str | None = None) -> Path:
        """Write docs/results/<name>.md (in --out; `name`: another page than the script's), what it
        measures taken from the docstring's first paragraph."""
        about = self.doc.split("\n\n")[0]
        path = pages.write_page(self.args.out, name or self.name, title, about, sections, f"benchmarks/{self.name}.py", self.argv)
        print(path.read_text())
        print(f"wrote {path}", file=sys.stderr)
        return path
