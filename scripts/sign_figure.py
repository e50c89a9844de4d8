"""Draw a mesh's ground truth under both sign conventions (the figures of docs/ground-truth.md).

    python scripts/sign_figure.py ../shared/data/test_task_meshes/10.obj docs/sign_conventions_10.png
"""

from __future__ import annotations

import argparse

from implicit3d.figures import plot_sign_conventions
from implicit3d.mesh import clean_mesh, load_mesh, normalize_mesh


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mesh")
    parser.add_argument("out", help="PNG to write")
    parser.add_argument("--resolution", type=int, default=240, help="points per side of each plane")
    parser.add_argument("--title", default=None)
    args = parser.parse_args()
    mesh, _ = normalize_mesh(clean_mesh(load_mesh(args.mesh), args.mesh))
    fraction = plot_sign_conventions(mesh, args.out, args.title or args.mesh, args.resolution)
    print(f"{args.out}: inside on the planes, filled {fraction['filled']:.2%}, solid {fraction['solid']:.2%}")


if __name__ == "__main__":
    main()
