#!/usr/bin/env bash
# Make the lock files from pyproject.toml with uv (`make lock`; `make lock UPGRADE=1` moves every pin
# to its newest release). Without UPGRADE, existing pins are kept and only what pyproject.toml
# added or no longer allows is resolved again, so an unchanged pyproject.toml gives the same files.
#   requirements/lock.txt           the project with its workflow, test, dev, export, docs and bench extras
#   requirements/lock-backends.txt  the same plus the optional ground-truth backends (pysdf needs Eigen)
#   requirements/lock-cuda.txt      lock.txt with the CUDA build of the same torch (`make setup TORCH=cuda`)
#   workflow/envs/implicit3d.yaml   the rules' conda environment: the runtime part of the lock
# Target: CPython 3.11 on x86_64 Linux (glibc >= 2.28), the platform CI runs on.
set -euo pipefail
VENV=${1:-.venv}
cd "$(dirname "$0")/.."
UV="$VENV/bin/uv"
[ -x "$UV" ] || { echo "lock: $UV not found (make lock installs it)"; exit 1; }

# The CPU build of torch lies on this kind of machine in /opt/wheels; elsewhere it comes from PyTorch's index.
if [ -d /opt/wheels ]; then
  TORCH=(--find-links /opt/wheels --no-emit-find-links)
else
  TORCH=(--extra-index-url https://download.pytorch.org/whl/cpu --index-strategy unsafe-best-match --no-emit-index-url)
fi
COMMON=(--python-version 3.11 --python-platform x86_64-manylinux_2_28 --custom-compile-command "make lock"
        -c requirements/constraints.txt "${TORCH[@]}" --quiet)
if [ -n "${UPGRADE:-}" ]; then COMMON+=(--upgrade); fi
# The extras every lock holds (the backends' lock adds its own).
EXTRAS=(--extra workflow --extra test --extra dev --extra export --extra docs --extra bench)

"$UV" pip compile pyproject.toml "${EXTRAS[@]}" "${COMMON[@]}" -o requirements/lock.txt
# The backends are resolved inside the main lock: the same versions in both files.
"$UV" pip compile pyproject.toml "${EXTRAS[@]}" --extra backends -c requirements/lock.txt "${COMMON[@]}" -o requirements/lock-backends.txt
# The CUDA lock: every pin of lock.txt but torch's, and the same torch version in its CUDA build with
# what it pulls (nvidia-*, triton, cuda-*). PyPI's Linux torch is the CUDA build (CUDA 13 for 2.13);
# CUDA_INDEX=https://download.pytorch.org/whl/cu126 (for example) resolves another CUDA version.
CPU_PINS=$(mktemp)
trap 'rm -f "$CPU_PINS"' EXIT
grep -E '^[A-Za-z0-9][A-Za-z0-9._-]*==' requirements/lock.txt | grep -v '^torch==' > "$CPU_PINS"
CUDA=(--python-version 3.11 --python-platform x86_64-manylinux_2_28 --custom-compile-command "make lock" --quiet)
if [ -n "${CUDA_INDEX:-}" ]; then CUDA+=(--extra-index-url "$CUDA_INDEX" --index-strategy unsafe-best-match --no-emit-index-url); fi
"$UV" pip compile pyproject.toml "${EXTRAS[@]}" -c "$CPU_PINS" -c requirements/constraints-cuda.txt "${CUDA[@]}" -o requirements/lock-cuda.txt
sed -i "s|$CPU_PINS|requirements/lock.txt|" requirements/lock-cuda.txt  # the pins' source, not the temporary copy
PYTHONPATH=src "$VENV/bin/python" -m implicit3d.lockfile conda-env requirements/lock.txt workflow/envs/implicit3d.yaml
echo "lock: requirements/lock.txt ($(grep -c '==' requirements/lock.txt) packages), requirements/lock-backends.txt, requirements/lock-cuda.txt, workflow/envs/implicit3d.yaml"
