# Two commands do everything on a fresh machine:
#   make run    install into .venv, then run the workflow on the built-in sample
#   make test   install into .venv, then run the test suite
# Both install exactly the versions in requirements/lock*.txt; `make lock` refreshes the lock files
# after pyproject.toml changed (existing pins kept), `make lock UPGRADE=1` moves every pin forward.
# `make setup TORCH=cuda` installs the CUDA build of the same torch (requirements/lock-cuda.txt) for
# training on NVIDIA GPUs; on a venv that has the CPU build, remove .venv/.installed first.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
CORES ?= 2
TORCH ?= cpu
STAMP := $(VENV)/.installed

.PHONY: run test test-slurm repro setup lock lint docs clean

run: $(STAMP)
	$(VENV)/bin/snakemake --cores $(CORES)
	@echo "summary: results/summary.md"; cat results/summary.md

test: $(STAMP)
	$(PY) -m pytest -q

# The sample on a throwaway single-node Slurm cluster through profiles/slurm (root; CI runs it).
test-slurm: $(STAMP)
	bash scripts/ci_slurm.sh $(VENV)

# dvc repro: the stage calls snakemake, so the venv goes first on PATH.
repro: $(STAMP)
	PATH="$(abspath $(VENV))/bin:$$PATH" $(VENV)/bin/dvc repro

# Python (ruff), the Snakefile and rules' format (snakefmt; both configured in pyproject.toml) and the
# workflow (snakemake --lint); .ci/run runs them all. `snakefmt Snakefile workflow/rules` formats.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/snakefmt --check Snakefile workflow/rules
	$(VENV)/bin/snakemake --lint

# The documentation site (mkdocs.yml, pages in docs/) into site/; strict: a broken link or anchor,
# or a nav entry without its page, fails. `$(VENV)/bin/mkdocs serve` previews it while editing.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

# Needs only uv (at its locked version), not the installed project: after pyproject.toml gained a
# dependency, setup refuses to install until the lock has it.
lock: $(VENV)/bin/uv
	bash scripts/lock.sh $(VENV)

$(VENV)/bin/uv:
	[ -x $(PY) ] || python3 -m venv $(VENV)
	$(PY) -m pip install -q "$$(grep -E '^uv==' requirements/lock.txt)"

setup: $(STAMP)

$(STAMP): pyproject.toml requirements/lock.txt requirements/lock-backends.txt requirements/lock-cuda.txt scripts/setup.sh
	TORCH=$(TORCH) bash scripts/setup.sh $(VENV)
	@touch $@

clean:
	rm -rf results .snakemake
