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


def axes_title(ax, text: str, **kwargs) -> None:
    """`ax`'s title, just above it: where matplotlib would place it, as nothing is drawn above the
    axes here, but at a fixed height, so that placing it is not worked out again on each draw."""
    ax.set_title(text, y=1.0, **kwargs)


def colors() -> list[str]:
    return plt.rcParams["axes.prop_cycle"].by_key()["color"] * 10


def save(fig, out: str | os.PathLike) -> None:
    # The rendered pixels straight from the canvas: a PNG in memory would be encoded only to be decoded.
    fig.set_dpi(100)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    pixels = np.asarray(canvas.buffer_rgba())[..., :3]
    plt.close(fig)
    with atomic_path(out) as tmp:
        write_palette_png(Image.fromarray(np.ascontiguousarray(pixels)), tmp)


def write_palette_png(image: Image.Image, path, colours: int = 256) -> None:
    """`image` as a PNG of `colours` palette colours: the same picture to the eye in a fraction of the
    bytes (the figures are the largest thing a run keeps per object after the samples). The octree
    quantizer keeps rare colours (legend patches, colour-bar ends) closer than median cut, in less
    time and fewer bytes; zlib's default level, as optimize's level 9 is slower for about the same bytes."""
    image.convert("RGB").quantize(colours, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE).save(path, format="PNG", compress_level=6)
