#!/usr/bin/env bash
# Create the project venv and install exactly the locked versions (requirements/lock*.txt, made by
# `make lock`). Idempotent; called by `make`. TORCH=cuda (`make setup TORCH=cuda`) installs the
# CUDA build of the same torch from requirements/lock-cuda.txt instead of the CPU build.
set -euo pipefail
VENV=${1:-.venv}
TORCH=${TORCH:-cpu}
case "$TORCH" in
  cpu|cuda) ;;
  *) echo "setup: TORCH=$TORCH is not a torch build this project locks (cpu or cuda)"; exit 1 ;;
esac
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

# The lock is resolved for CPython 3.11 (scripts/lock.sh).
if [ ! -x "$VENV/bin/python" ]; then
  PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || {
    echo "setup: the lock is made for Python 3.11, $PYTHON is $("$PYTHON" -V 2>&1); set PYTHON=/path/to/python3.11" \
         "(or install without the lock: pip install -e '.[workflow,test,export]')"; exit 1; }
  "$PYTHON" -m venv "$VENV"
fi
PIP="$VENV/bin/python -m pip --disable-pip-version-check -q"
# --no-deps: the lock is the whole environment. A dependency that pyproject.toml gained and the
# lock lacks is then missing, which `pip check` reports below instead of pip resolving it freely.
install() { $PIP install --no-deps -r "$1" -e .; }
if [ "$TORCH" = cuda ]; then
  # Several GB of CUDA libraries; the optional backends are left out (they only compare).
  install requirements/lock-cuda.txt
elif [ -d /usr/include/eigen3 ] && CPATH=/usr/include/eigen3${CPATH:+:$CPATH} install requirements/lock-backends.txt; then
  :
else
  [ -d /usr/include/eigen3 ] && echo "setup: optional ground-truth backends (pysdf, mesh-to-sdf) failed to install; the default 'exact' method works without them"
  install requirements/lock.txt
fi
$VENV/bin/python -m pip check >/dev/null || {
  $VENV/bin/python -m pip check || true
  echo "setup: the installed set is incomplete: pyproject.toml asks for something requirements/lock.txt lacks; run 'make lock'"; exit 1; }
echo "setup: done ($VENV, locked versions from requirements/, torch: $TORCH build)"
