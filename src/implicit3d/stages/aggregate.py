"""The aggregate stage: the summary table of every object and model, and an empty failure list."""

from __future__ import annotations

from ..failures import write_failures
from ..summary import load_records, read_collection, write_summary


def aggregate(evals: list[str], reconstructions: list[str], collection_csv: str, csv: str, parquet: str, md: str, failed: str) -> None:
    records = load_records(evals, reconstructions, read_collection(collection_csv))
    write_summary(records, csv, parquet, md)
    write_failures(failed, [])  # every object finished, or the rule would not run
