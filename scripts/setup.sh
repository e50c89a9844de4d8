#!/usr/bin/env bash
# Create the project venv and install everything. Idempotent; called by `make`.
set -euo pipefail
VENV=${1:-.venv}
cd "$(dirname "$0")/.."

# System headers: pysdf compiles against Eigen. Install it when we can (root or sudo), else say how.
if [ ! -d /usr/include/eigen3 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO=none; fi
  if [ "$SUDO" != none ] && command -v apt-get >/dev/null; then
    echo "setup: installing libeigen3-dev (needed to build pysdf)"
    $SUDO apt-get install -y -q libeigen3-dev >/dev/null 2>&1 || { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q libeigen3-dev >/dev/null; }
  else
    echo "setup: pysdf backend skipped: it needs Eigen headers (run: sudo apt-get install libeigen3-dev, then make setup)"
  fi
fi

[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
PIP="$VENV/bin/python -m pip --disable-pip-version-check -q"
# Pinned CPU torch first, so no other requirement pulls a CUDA build.
$PIP install torch==2.13.0
$PIP install -e ".[workflow,test]"
if [ -d /usr/include/eigen3 ]; then
  CPATH=/usr/include/eigen3${CPATH:+:$CPATH} $PIP install -e ".[backends]" \
    || echo "setup: optional ground-truth backends (pysdf, mesh-to-sdf) failed to install; the default 'exact' method works without them"
fi
echo "setup: done ($VENV)"
