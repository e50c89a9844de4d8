"""What the same numbers on any x86-64 CPU cost: training the default model under each choice of CPU code paths, side by side (`implicit3d.numerics`).

Each object is normalized and sampled once; then the train stage trains the config's first model
on it (one thread, as a train job) and the evaluate stage tests it, in a fresh process under each
setting (`--settings` picks some), alternating the order, `--rounds` times:

- `auto` (MKL AUTO, `MKL_CBWR=AUTO`): oneMKL picks its kernels by CPU vendor and instruction set
  (fastest; an Intel Xeon and an AMD EPYC then train different weights);
- `compatible` (MKL COMPATIBLE, the default, always run): oneMKL's branch that is the same on
  every x86-64 CPU;
- `torch-default` (+ torch DEFAULT): also torch's kernels at the level of a CPU without AVX2
  (`ATEN_CPU_CAPABILITY=default`: what the same bits on CPUs without AVX2 would take).

Per setting: the median train seconds (the training loop's wall seconds), the train stage's CPU
seconds (its pool draw too, which no setting changes; steadier than wall seconds on a shared
machine), the step milliseconds, the first two's ratios to the default's (median of the per-object
ratios), and the mean F1 near the surface.

    python benchmarks/cpu_numerics.py                          # reference objects 0, 4, 8, 16
    python benchmarks/cpu_numerics.py --rounds 3 --objects 0,16
"""

from __future__ import annotations

import dataclasses
import sys

import pandas as pd
from harness import REPO, Bench, parser

# Each setting's name for --settings, its label, and its environment for the training process (None: unset).
SETTINGS = {
    "auto": ("MKL AUTO", {"MKL_CBWR": "AUTO", "ATEN_CPU_CAPABILITY": None}),
    "compatible": ("MKL COMPATIBLE (default)", {"MKL_CBWR": "COMPATIBLE", "ATEN_CPU_CAPABILITY": None}),
    "torch-default": ("+ torch DEFAULT", {"MKL_CBWR": "COMPATIBLE", "ATEN_CPU_CAPABILITY": "default"}),
}
DEFAULT = "compatible"  # what the others are compared with: always run
MEASURES = {"train_seconds": "median train s", "train_stage_cpu_s": "median train stage CPU s", "step_ms": "median step ms"}
RATIOS = ("train_seconds", "train_stage_cpu_s")  # per object, to the default's (step ms go as train s)


def main(argv: list[str] | None = None) -> None:
    p = parser(__doc__, objects="0,4,8,16")
    p.add_argument("--rounds", type=int, default=2, help="trainings per object and setting (default: 2)")
    p.add_argument("--settings", default=",".join(SETTINGS), help=f"comma-separated, of {', '.join(SETTINGS)} (default: all; {DEFAULT} always runs)")
    args = p.parse_args(argv)
    if unknown := set(args.settings.split(",")) - set(SETTINGS):
        p.error(f"unknown settings {', '.join(sorted(unknown))} (choose from {', '.join(SETTINGS)})")
    chosen_settings = [s for s in SETTINGS if s in args.settings.split(",") or s == DEFAULT]
    rows = []
    with Bench(__file__, __doc__, args, argv) as b:
        arch = b.config["models"][0]
        variants = [dataclasses.replace(b.variant(SETTINGS[s][0], arch), tree=REPO, env=SETTINGS[s][1]) for s in chosen_settings]
        for i, (name, mesh) in enumerate(b.meshes().items()):
            prepared = b.prepare(name, mesh)
            for r in range(args.rounds):
                for chosen in variants if (i + r) % 2 == 0 else variants[::-1]:  # alternate, so drift favours none
                    rows.append(b.train(prepared, chosen))
                    print(f"{name:>4} {chosen.label}: {rows[-1]['train_seconds']:.1f} s", file=sys.stderr, flush=True)
        heading = f"Training {arch} under each setting: {len(rows) // len(variants)} trainings each, one thread, each in a fresh process"
        b.page("The cost of the same numbers on any x86-64 CPU", [(heading, summarize(pd.DataFrame(rows), [v.label for v in variants]))])


def summarize(runs: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
    per_object = runs.groupby(["variant", "object"])[[*MEASURES, "f1_near"]].median()
    default = per_object.loc[SETTINGS[DEFAULT][0]]
    rows = []
    for label in labels:
        part = per_object.loc[label]
        row = {"setting": label} | {name: part[measure].median() for measure, name in MEASURES.items()}
        row |= {f"{MEASURES[measure].removeprefix('median ')} / default's": (part[measure] / default[measure]).median() for measure in RATIOS}
        rows.append(row | {"mean f1_near": part["f1_near"].mean()})
    return pd.DataFrame(rows).round(4)


if __name__ == "__main__":
    main()
