"""What every figure shares: the headless backend, the colour cycle, and how a PNG is saved."""

from __future__ import annotations

import os

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from PIL import Image

from ..io import atomic_path

matplotlib.use("Agg")  # headless: no display on cluster nodes or CI

import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)


def object_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """A summary table's object rows (without its 'mean' rows)."""
    return frame[frame["object"].astype(str) != "mean"]


def colors() -> list[str]:
    return plt.rcParams["axes.prop_cycle"].by_key()["color"] * 10


def save(fig, out: str | os.PathLike) -> None:
    # The rendered pixels straight from the canvas: a PNG in memory would be encoded only to be decoded.
    fig.set_dpi(100)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    pixels = np.asarray(canvas.buffer_rgba())[..., :3]
    plt.close(fig)
    # A 256-colour palette: the same picture to the eye in a fraction of the bytes (the figures are
    # the largest thing a run keeps per object after the samples). The octree quantizer keeps rare
    # colours (legend patches, colour-bar ends) closer than median cut, in less time and fewer bytes.
    image = Image.fromarray(np.ascontiguousarray(pixels)).quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    with atomic_path(out) as tmp:
        image.save(tmp, format="PNG", compress_level=6)  # zlib's default; optimize's level 9 is slower for about the same bytes
