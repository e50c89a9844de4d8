"""Draw a mesh's ground truth under both sign conventions (the figures of docs/ground-truth.md).

    python scripts/sign_figure.py ../shared/data/test_task_meshes/10.obj docs/sign_conventions_10.png
"""

from __future__ import annotations

import argparse

import numpy as np
import trimesh
from matplotlib.colors import ListedColormap, SymLogNorm
from matplotlib.patches import Patch

from implicit3d.figures import PLANES, slice_data
from implicit3d.figures.slices import AXIS_NAMES
from implicit3d.figures.style import plt, save
from implicit3d.groundtruth import GroundTruth
from implicit3d.mesh import clean_mesh, load_mesh, normalize_mesh


def plot_sign_conventions(mesh: trimesh.Trimesh, out: str, title: str = "", resolution: int = 200, seal: float | None = None) -> dict:
    """The ground truth of one mesh under both sign conventions, on the three planes through
    the origin: the filled SDF, the solid SDF, and where they differ. Returns the inside
    fraction of each convention on the planes."""
    kwargs = {} if seal is None else {"seal": seal}
    data = {sign: slice_data(None, GroundTruth(mesh, sign=sign, **kwargs), resolution) for sign in ("filled", "solid")}
    vmax = max(float(np.abs(d["truth"]).max()) for d in data["filled"]) or 1.0
    norm = SymLogNorm(linthresh=0.02, vmin=-vmax, vmax=vmax)
    compare = ListedColormap(["#ffffff", "#8c8c8c", "#ff9f1c", "#1f77b4"])  # outside, both, filled only, solid only
    fig, axes = plt.subplots(len(PLANES), 3, figsize=(11, 3.4 * len(PLANES) + 0.6), constrained_layout=True)
    fraction = {}
    for sign in data:
        fraction[sign] = float(np.mean([np.mean(d["truth"] < 0) for d in data[sign]]))
    for row, (filled, solid) in enumerate(zip(data["filled"], data["solid"], strict=True)):
        normal, horizontal, vertical = filled["plane"]
        extent = (-1, 1, -1, 1)
        for col, (d, name) in enumerate(((filled, "filled"), (solid, "solid"))):
            ax = axes[row, col]
            im = ax.imshow(d["truth"], origin="lower", extent=extent, cmap="RdBu", norm=norm)
            ax.contour(d["truth"], levels=[0.0], extent=extent, colors="k", linewidths=1.0)
            ax.set_title(f"{name}, {AXIS_NAMES[normal]} = 0")
        fig.colorbar(im, ax=axes[row, :2], shrink=0.85, label="SDF (negative inside)")
        a, b = filled["truth"] < 0, solid["truth"] < 0
        category = np.select([a & b, a & ~b, ~a & b], [1, 2, 3], default=0)
        axes[row, 2].imshow(category, origin="lower", extent=extent, cmap=compare, vmin=-0.5, vmax=3.5, interpolation="nearest")
        axes[row, 2].set_title("inside under each")
        for ax in axes[row]:
            ax.set_xlabel(AXIS_NAMES[horizontal])
            ax.set_ylabel(AXIS_NAMES[vertical])
            ax.set_aspect("equal")
    labels = ["inside under both", "filled only (enclosed, not material)", "solid only"]
    handles = [Patch(facecolor=c, edgecolor="0.5", label=lbl) for c, lbl in zip(["#8c8c8c", "#ff9f1c", "#1f77b4"], labels, strict=True)]
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize=9, frameon=False)
    fig.suptitle(f"{title}   inside on these planes: filled {fraction['filled']:.1%}, solid {fraction['solid']:.1%}".strip())
    save(fig, out)
    return fraction


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mesh")
    parser.add_argument("out", help="PNG to write")
    parser.add_argument("--resolution", type=int, default=240, help="points per side of each plane")
    parser.add_argument("--title", default=None)
    args = parser.parse_args(argv)
    mesh, _ = normalize_mesh(clean_mesh(load_mesh(args.mesh), args.mesh))
    fraction = plot_sign_conventions(mesh, args.out, args.title or args.mesh, args.resolution)
    print(f"{args.out}: inside on the planes, filled {fraction['filled']:.2%}, solid {fraction['solid']:.2%}")


if __name__ == "__main__":
    main()
