"""The lattice the stored test points lie on, and the integer columns it lets a samples file keep.

The sample stage snaps the test points to a lattice of step 2**-14 before their ground truth is
computed, and rounds their SDF to a multiple of 2**-20, keeping its sign. Such a point table is
stored exactly as one Z-order code per point and one integer SDF, in about half the bytes of
float32 columns. Tables off the lattice keep float32 columns (`io.write_points`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .zorder import deinterleave, interleave

STEP = 2.0**-14  # coordinate step, far below the near-surface noise (std 0.01)
ORIGIN = -2.0  # the lattice covers [-2, 2)^3 with 2**16 cells per axis
CELLS = 1 << 16
SDF_STEP = 2.0**-20  # about 1e-6, far below any model's SDF error
SDF_UNITS = 1 << 24  # |sdf| below 16: every multiple of SDF_STEP is exact in float32
POINT_COLUMNS = ("x", "y", "z", "sdf")
CODE_COLUMNS = ("zorder", "sdf_units")  # what replaces POINT_COLUMNS in the file
PARAMS = {"origin": ORIGIN, "step": STEP, "sdf_step": SDF_STEP}  # kept in each file, for `decode`


def snap(points: np.ndarray) -> np.ndarray:
    """The nearest lattice points (float32, exact)."""
    return (np.round(np.asarray(points, dtype=np.float64) / STEP) * STEP).astype(np.float32)


def round_sdf(sdf: np.ndarray) -> np.ndarray:
    """SDF rounded to a multiple of SDF_STEP (float32), never to zero from either side, so every
    point keeps its side of the surface."""
    sdf = np.asarray(sdf, dtype=np.float64)
    units = np.round(sdf / SDF_STEP)
    units = np.where(sdf < 0, np.minimum(units, -1), np.where(sdf > 0, np.maximum(units, 1), units))
    return (units * SDF_STEP).astype(np.float32)


def z_codes(points: np.ndarray) -> np.ndarray:
    """The Z-order codes of lattice points: sorted by them, neighbours in space become neighbours
    in the file, so the codes' differences are small."""
    cells = _cells(points)
    if cells is None:
        raise ValueError("points are not on the samples lattice (snap them first)")
    return interleave(cells)


def encode(frame: pd.DataFrame) -> pd.DataFrame | None:
    """`frame` with its x, y, z, sdf columns (its first four) as `CODE_COLUMNS`; None where any
    point or SDF is off the lattice, so storing the codes would lose something."""
    if tuple(frame.columns[:4]) != POINT_COLUMNS or len(frame) == 0:
        return None
    cells = _cells(frame[["x", "y", "z"]].to_numpy())
    units = frame["sdf"].to_numpy(np.float64) / SDF_STEP
    if cells is None or not (np.all(units == np.round(units)) and np.all(np.abs(units) < SDF_UNITS)):
        return None
    codes = pd.DataFrame({"zorder": interleave(cells).astype(np.int64), "sdf_units": units.astype(np.int32)})
    return pd.concat([codes, frame.iloc[:, 4:].reset_index(drop=True)], axis=1)


def decode(frame: pd.DataFrame, params: dict = PARAMS) -> pd.DataFrame:
    """The x, y, z, sdf columns (float32) back from what `encode` made with the lattice `params`."""
    cells = deinterleave(frame["zorder"].to_numpy().astype(np.uint64)).astype(np.float64)
    points = (cells * params["step"] + params["origin"]).astype(np.float32)
    sdf = (frame["sdf_units"].to_numpy().astype(np.float64) * params["sdf_step"]).astype(np.float32)
    values = pd.DataFrame({"x": points[:, 0], "y": points[:, 1], "z": points[:, 2], "sdf": sdf})
    return pd.concat([values, frame.drop(columns=list(CODE_COLUMNS))], axis=1)


def _cells(points: np.ndarray) -> np.ndarray | None:
    """The lattice cells of `points`, or None where any is off the lattice or outside it."""
    cells = (np.asarray(points, dtype=np.float64) - ORIGIN) / STEP
    if not (np.all(cells == np.round(cells)) and np.all((cells >= 0) & (cells < CELLS))):
        return None
    return cells.astype(np.int64)
