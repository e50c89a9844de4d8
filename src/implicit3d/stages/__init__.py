"""The pipeline's stages, one module per stage, each a file-to-file entry point that a Snakemake
script (workflow/scripts) or `implicit3d.chain` calls.

Per object: `normalize`, `sample`, `train`, `evaluate`, `reconstruct`, `figures`. Per collection:
`collection`, `aggregate`, `report` (the summary page and the run's figures), `viewer`, `tracking`;
`shard` runs every per-object step of a group of objects as one job. The per-object stages that
every object runs are importable from here; they import torch only where they need it.
"""

from .evaluate import evaluate
from .normalize import normalize
from .reconstruct import reconstruct
from .sample import sample
from .train import train

__all__ = ["evaluate", "normalize", "reconstruct", "sample", "train"]
