#!/usr/bin/env bash
# Make the lock files from pyproject.toml with uv (`make lock`; `make lock UPGRADE=1` moves every pin
# to its newest release). Without UPGRADE, existing pins are kept and only what pyproject.toml
# added or no longer allows is resolved again, so an unchanged pyproject.toml gives the same files.
#   requirements/lock.txt           the project with its workflow, test, dev, export and docs extras
#   requirements/lock-backends.txt  the same plus the optional ground-truth backends (pysdf needs Eigen)
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

"$UV" pip compile pyproject.toml --extra workflow --extra test --extra dev --extra export --extra docs "${COMMON[@]}" -o requirements/lock.txt
# The backends are resolved inside the main lock: the same versions in both files.
"$UV" pip compile pyproject.toml --extra workflow --extra test --extra dev --extra export --extra docs --extra backends \
  -c requirements/lock.txt "${COMMON[@]}" -o requirements/lock-backends.txt
PYTHONPATH=src "$VENV/bin/python" -m implicit3d.lockfile conda-env requirements/lock.txt workflow/envs/implicit3d.yaml
echo "lock: requirements/lock.txt ($(grep -c '==' requirements/lock.txt) packages), requirements/lock-backends.txt, workflow/envs/implicit3d.yaml"
