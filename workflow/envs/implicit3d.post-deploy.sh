#!/usr/bin/env bash
# Snakemake runs this once in the new environment of workflow/envs/implicit3d.yaml, from the
# working directory: install the project (workflow/scripts import implicit3d) without touching the
# locked dependencies that the environment already has.
set -euo pipefail
[ -f pyproject.toml ] && grep -q '^name = "implicit3d"' pyproject.toml || {
  echo "implicit3d.post-deploy.sh: run snakemake from the implicit3d checkout (found no pyproject.toml of implicit3d in $PWD)" >&2
  exit 1
}
python -m pip install --no-deps -e .
