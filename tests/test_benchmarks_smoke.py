"""Every script in benchmarks/ runs: each with --smoke (small meshes of the built-in sample, few
points, a few training steps) writes its page, so a change in the package cannot break a benchmark
silently (gpu_benchmark where torch sees a GPU, draco where DracoPy is installed; elsewhere each
says why in one line and writes nothing). The pages go to a temporary folder; docs/results/ is left
alone."""

import importlib
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from harness import SAMPLE_MESHES, checkout, pages  # noqa: E402
from harness.bench import smoke_sampling  # noqa: E402

from implicit3d.groundtruth import threads as gt_threads  # noqa: E402
from implicit3d.io import read_points  # noqa: E402
from implicit3d.stages import normalize, sample  # noqa: E402

BENCHMARKS = sorted(path.stem for path in (REPO / "benchmarks").glob("*.py"))
# Benchmarks that need what a machine may lack, and the function of each that says why in one line (None: it can run).
NEEDS = {"gpu_benchmark": "gpu_missing", "draco": "dracopy_missing"}
# Options that keep a benchmark's smoke run to seconds, beside --smoke.
SMALL = {
    "cpu_numerics": ["--rounds", "1", "--settings", "auto"],
    "damage_benchmark": ["--points", "2000"],
    "default_run": ["--models", "hashgrid"],
    "gpu_benchmark": ["--no-cpu"],
    "groundtruth_benchmark": ["--points", "2000"],
    "scale": ["--sizes", "4", "--nested-size", "4"],
    "seal_sweep": ["--points", "2000", "--seals", "0.05,0.1"],
    "size_sweep": ["--jobs", "1", "--sizes", "32"],
    "storage": ["--presets", "0,1", "--repeats", "1", "--figures", "2"],
    "trace_steps": ["--truth"],
    "train_time": ["--models", "hashgrid_previous,hashgrid"],  # an old name still works
}


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """One work folder for all: the small meshes are normalized and sampled once."""
    return tmp_path_factory.mktemp("benchmarks")


@pytest.fixture
def threads_kept():
    """The benchmarks set torch's and the ground truth's threads for this process: put them back."""
    torch_threads, truth_threads = torch.get_num_threads(), gt_threads._limit
    yield
    torch.set_num_threads(torch_threads)
    gt_threads.set_threads(truth_threads)


@pytest.mark.parametrize("name", BENCHMARKS)
def test_benchmark_writes_its_page(name, work, tmp_path, threads_kept, capsys):
    if name in NEEDS and (missing := getattr(importlib.import_module(name), NEEDS[name])()):
        pytest.skip(missing)
    argv = ["--smoke", "--out", str(tmp_path), "--work", str(work / "shared"), *SMALL.get(name, [])]
    importlib.import_module(name).main(argv)
    page = (tmp_path / f"{name}.md").read_text()
    assert page.startswith("# ") and f"- command: `python benchmarks/{name}.py --smoke" in page
    assert "- commit: " in page and "- machine: " in page
    assert any(line.startswith("| ") for line in page.splitlines()), "the page has no table"
    assert f"[{name}]({name}.md)" in (tmp_path / "index.md").read_text()
    assert capsys.readouterr().out.startswith("# ")  # the page is printed too


def test_gpu_benchmark_without_a_gpu_says_why_in_one_line(tmp_path):
    missing = importlib.import_module("gpu_benchmark").gpu_missing()
    if missing is None:
        pytest.skip("torch sees a GPU: the smoke run measures it")
    done = subprocess.run([sys.executable, "benchmarks/gpu_benchmark.py", "--smoke", "--out", str(tmp_path)], cwd=REPO, capture_output=True, text=True)
    assert (done.returncode, done.stdout) == (0, f"gpu_benchmark: skipped: {missing}\n"), done.stderr
    assert not any(tmp_path.iterdir())


def test_draco_without_dracopy_says_why_in_one_line(tmp_path):
    hide = "import sys; sys.modules['DracoPy'] = None; sys.path.insert(0, 'benchmarks'); import draco; draco.main(sys.argv[1:])"
    done = subprocess.run([sys.executable, "-c", hide, "--smoke", "--out", str(tmp_path)], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 1 and done.stderr.startswith("draco: DracoPy is not installed") and done.stderr.count("\n") == 1, done.stderr
    assert not any(tmp_path.iterdir())


def test_draco_reads_a_finished_run(tmp_path, threads_kept):
    """--run: the models' rows as the run's summary has them, on the run's own test points (of two
    sample sets in the folder, the one the summary's figures were computed on) and normalized mesh."""
    draco = importlib.import_module("draco")
    if missing := draco.dracopy_missing():
        pytest.skip(missing)
    run = tmp_path / "results"
    mesh = run / "normalized" / "joint.ply"
    normalize(str(SAMPLE_MESHES / "joint.ply"), str(mesh), str(mesh.with_suffix(".json")))
    sampling = smoke_sampling(yaml.safe_load((REPO / "config" / "config.yaml").read_text())["sampling"])
    other = {**sampling, "test": {**sampling["test"], "volume_count": sampling["test"]["volume_count"] - 1}}
    for tag, chosen in (("a", other), ("b", sampling)):  # "a" first: the search must pass over it
        sample(str(mesh), str(run / "samples" / tag / "joint.parquet"), chosen)
    frame, _ = read_points(run / "samples" / "b" / "joint.parquet")
    inside = float((frame[frame["kind"] == "volume"]["sdf"] < 0).mean())
    row = {"object": "joint", "model": "hashgrid", "f1_near": 0.5, "f1_volume": 0.75, "model_bytes": 12345, "inside_fraction_volume": inside}
    pd.DataFrame([row]).to_csv(run / "summary.csv", index=False)
    assert draco.run_samples(run, "joint", inside) == run / "samples" / "b" / "joint.parquet"
    draco.main(["--run", str(run), "--bits", "8", "--out", str(tmp_path / "page")])
    page = (tmp_path / "page" / "draco.md").read_text()
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in page.split("## Object joint")[1].splitlines() if line.startswith("| ")]
    assert cells[1][:4] == ["model hashgrid", "12345", "0.5", "0.75"] and cells[2][0] == "Draco 8 bits", page  # under the header
    assert (tmp_path / "page" / "draco.png").is_file()
    (run / "samples" / "b" / "joint.parquet").unlink()
    with pytest.raises(SystemExit, match="no samples file whose volume points are inside in the summary's fraction"):
        draco.main(["--run", str(run), "--out", str(tmp_path / "page")])


def test_storage_counts_an_object_kept_in_both_formats_once(tmp_path):
    storage = importlib.import_module("storage")
    for name in ("a.ply", "a.ply.xz", "b.ply", "a.json", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    assert storage.kept_meshes(tmp_path.iterdir()) == [tmp_path / "a.ply.xz", tmp_path / "b.ply"]
    with pytest.raises(SystemExit, match="normalized: not found"):
        storage.main(["--run", str(tmp_path), "--out", str(tmp_path / "page")])


def test_committed_results_index_is_current():
    current = (pages.RESULTS / "index.md").read_text()
    assert current == pages.index(pages.RESULTS), "docs/results/index.md is stale: run `PYTHONPATH=benchmarks python -m harness`"


def test_baseline_is_a_worktree_removed_afterwards():
    with checkout("HEAD") as tree:
        assert (tree / "pyproject.toml").is_file() and (tree / ".git").is_file()
    assert not tree.exists()
    listed = subprocess.run(["git", "worktree", "list"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    assert str(tree) not in listed
    with pytest.raises(SystemExit, match="--baseline no-such-rev: not a revision"), checkout("no-such-rev"):
        pass


def snakemake_log(path: Path, rules: list[str]) -> Path:
    """A Snakemake log in which each of `rules` ran one job (start and finish stamps)."""
    lines = []
    for job, rule in enumerate(rules, 1):
        lines += ["[Sun Dec  6 05:00:15 2026]", f"rule {rule}:", "    input: x", f"    jobid: {job}", "",
                  "[Sun Dec  6 05:00:17 2026]", f"Finished jobid: {job} (Rule: {rule})", ""]  # fmt: skip
    path.write_text("\n".join(lines))
    return path


def test_python_starts_counts_step_jobs_forkservers_and_shards(tmp_path):
    from harness.workflow import python_starts

    steps = snakemake_log(tmp_path / "steps.log", ["normalize", "sample", "train", "evaluate", "aggregate", "all"])
    chain = snakemake_log(tmp_path / "chain.log", ["object", "object", "object", "figures", "aggregate"])
    shards = snakemake_log(tmp_path / "top.log", ["shard", "shard", "aggregate"])
    assert python_starts([steps]) == 4  # a process per step job; aggregate and all are the run's own
    assert python_starts([chain]) == 2  # one forkserver for the three objects, and the figures job
    assert python_starts([shards, chain, chain]) == 2 + 2 + 2  # each shard's Snakemake, then its chain
