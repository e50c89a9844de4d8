"""`PYTHONPATH=benchmarks python -m harness`: rewrite docs/results/index.md (after adding or removing a benchmark)."""

from .pages import write_index

write_index()
