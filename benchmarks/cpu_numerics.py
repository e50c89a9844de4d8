"""What the same numbers on any x86-64 CPU cost: training under each choice of CPU code paths,
side by side in one run (`implicit3d.numerics`).

Each object of `--meshes` is normalized and sampled once; then the train stage trains the default
model on it (one thread, as a train job) in a fresh process under each setting, alternating the
order, `--rounds` times:

- `MKL AUTO`: oneMKL picks its kernels by CPU vendor and instruction set (fastest; what ran
  before; an Intel Xeon and an AMD EPYC then train different weights);
- `MKL COMPATIBLE` (the default): oneMKL's branch that is the same on every x86-64 CPU;
- `+ torch DEFAULT`: also torch's kernels at the level of a CPU without AVX2 everywhere (what full
  identity on CPUs without AVX2 would take).

Prints the median train seconds (wall, and the training loop's CPU seconds, steadier on a shared
machine) and step milliseconds per setting, their ratios to the default's (median of the per-object
ratios), and each setting's mean F1 near the surface.

    python benchmarks/cpu_numerics.py                     # the built-in sample
    python benchmarks/cpu_numerics.py --rounds 3 --page   # and write docs/results/cpu_numerics.md
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results_page import write_page  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
from implicit3d.stages import normalize, sample  # noqa: E402

SETTINGS = {
    "MKL AUTO": {"MKL_CBWR": "AUTO"},
    "MKL COMPATIBLE (default)": {"MKL_CBWR": "COMPATIBLE"},
    "+ torch DEFAULT": {"MKL_CBWR": "COMPATIBLE", "ATEN_CPU_CAPABILITY": "default"},
}
DEFAULT = "MKL COMPATIBLE (default)"

# One train job (and its evaluation) in a fresh process; prints its figures as one JSON line.
TRAIN = """
import json, sys, time
from implicit3d import training
from implicit3d.stages import evaluate, train
samples, mesh, out, spec = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
measured = {}
def timed(*args, _train=training.train_with_retry, **kwargs):  # the training loop's CPU seconds:
    start = time.process_time()  # steadier than its wall seconds on a shared machine
    result = _train(*args, **kwargs)
    measured["cpu"] = time.process_time() - start
    return result
training.train_with_retry = timed
info = train(samples, mesh, f"{out}.pt", f"{out}.json", spec, threads=1, device="cpu", progress=False)
record = evaluate(f"{out}.pt", f"{out}.json", samples, f"{out}.eval.json", "object", "model", threads=1)
print(json.dumps({"train_seconds": info["train_seconds"], "train_cpu_s": measured["cpu"], "step_ms": info["step_ms"], "f1_near": record["f1_near"]}))
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--meshes", type=Path, default=REPO / "data" / "sample_meshes")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--page", action="store_true", help="write docs/results/cpu_numerics.md")
    args = parser.parse_args(argv)
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    spec = json.dumps(config["architectures"][config["models"][0]])
    meshes = sorted(p for p in args.meshes.iterdir() if p.suffix in (".ply", ".obj", ".off", ".stl"))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for i, source in enumerate(meshes):
            mesh, samples = root / f"{source.stem}.ply", root / f"{source.stem}.parquet"
            normalize(str(source), str(mesh), str(root / f"{source.stem}.json"))
            sample(str(mesh), str(samples), config["sampling"])
            for r in range(args.rounds):
                order = list(SETTINGS) if (i + r) % 2 == 0 else list(SETTINGS)[::-1]  # alternate: drift favours none
                for label in order:
                    env = {k: v for k, v in os.environ.items() if k not in ("MKL_CBWR", "ATEN_CPU_CAPABILITY")} | SETTINGS[label]
                    done = subprocess.run([sys.executable, "-c", TRAIN, str(samples), str(mesh), str(root / "m"), spec], env=env, capture_output=True, text=True)
                    if done.returncode:
                        sys.exit(f"{source.stem} under {label} failed:\n{done.stderr[-2000:]}")
                    rows.append({"object": source.stem, "round": r, "setting": label, **json.loads(done.stdout.strip().splitlines()[-1])})
                    print(f"{source.stem} {label}: {rows[-1]['train_seconds']:.1f} s", file=sys.stderr, flush=True)
    runs = pd.DataFrame(rows)
    per_object = runs.groupby(["object", "setting"])[["train_seconds", "train_cpu_s", "step_ms", "f1_near"]].median().reset_index()
    default = per_object[per_object["setting"] == DEFAULT].set_index("object")
    table = pd.DataFrame([{
        "setting": label,
        "median train s": part["train_seconds"].median(),
        "median train CPU s": part["train_cpu_s"].median(),
        "median step ms": part["step_ms"].median(),
        "train CPU s / default (median per object)": (part.set_index("object")["train_cpu_s"] / default["train_cpu_s"]).median(),
        "train s / default (median per object)": (part.set_index("object")["train_seconds"] / default["train_seconds"]).median(),
        "mean f1_near": part["f1_near"].mean(),
    } for label, part in ((label, per_object[per_object["setting"] == label]) for label in SETTINGS)])  # fmt: skip
    print(table.round(4).to_markdown(index=False))
    if args.page:
        note = f"{len(meshes)} objects, {args.rounds} rounds each, one thread, the default model ({config['models'][0]}), each training in a fresh process."
        print(f"wrote {write_page('cpu_numerics', 'The cost of the same numbers on any x86-64 CPU', [('Training under each setting', table.round(4))], '1 torch thread', note)}")


if __name__ == "__main__":
    main()
