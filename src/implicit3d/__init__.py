"""implicit3d: learn and evaluate per-object neural signed distance functions."""

__version__ = "0.1.0"
