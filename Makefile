# Two commands do everything on a fresh machine:
#   make run    install into .venv, then run the workflow on the built-in sample
#   make test   install into .venv, then run the test suite
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
CORES ?= 2
STAMP := $(VENV)/.installed

.PHONY: run test test-slurm repro setup lint clean

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

lint: $(STAMP)
	$(VENV)/bin/snakemake --lint

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/setup.sh
	bash scripts/setup.sh $(VENV)
	@touch $@

clean:
	rm -rf results .snakemake
