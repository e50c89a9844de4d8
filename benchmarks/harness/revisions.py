"""Other revisions of the project, to run side by side with this checkout.

One way to get a baseline: `checkout(rev)`, a git worktree of that revision (what `--baseline REV`
names). Its code runs in its own processes with its own `src/` first on PYTHONPATH (`tree_env`),
in this environment. `working_copy` copies this checkout, uncommitted changes included, for runs
that write into their tree (Snakemake writes results/ beside the Snakefile)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .meshes import REPO


def git(*args: str, cwd: Path = REPO) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"error: git {' '.join(args)}: {done.stderr.strip() or f'exit {done.returncode}'}")
    return done.stdout.strip()


@contextmanager
def checkout(rev: str) -> Iterator[Path]:
    """A detached git worktree of `rev` (any name git knows: a commit, a tag, HEAD~3), removed afterwards."""
    found = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], cwd=REPO, capture_output=True, text=True)
    if found.returncode:
        raise SystemExit(f"error: --baseline {rev}: not a revision of {REPO}")
    commit = found.stdout.strip()
    root = Path(tempfile.mkdtemp(prefix="implicit3d-baseline-"))
    tree = root / commit[:10]
    git("worktree", "add", "--detach", "--quiet", str(tree), commit)
    try:
        yield tree
    finally:
        git("worktree", "remove", "--force", str(tree))
        shutil.rmtree(root, ignore_errors=True)


def working_copy(dest: Path) -> Path:
    """This checkout's files as they are now (tracked and untracked, not ignored ones) in `dest`, with
    numba's caches of the compiled loops: their sources keep their times, so the copy loads them instead of compiling."""
    names = git("ls-files", "--cached", "--others", "--exclude-standard", "-z").split("\0")
    caches = [str(p.relative_to(REPO)) for p in (REPO / "src").rglob("__pycache__/*.nb[ic]")]
    for name in names + caches:
        source = REPO / name
        if name and source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


def tree_env(tree: Path, threads: int | None = None, changes: dict[str, str | None] | None = None) -> dict[str, str]:
    """The environment that runs `tree`'s package (its src/ first on the path), optionally on `threads`
    threads, with `changes` (a value None unsets that variable)."""
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    env.pop("SNAKEMAKE_PROFILE", None)
    if threads is not None:
        env["OMP_NUM_THREADS"] = str(threads)
    for name, value in (changes or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env
