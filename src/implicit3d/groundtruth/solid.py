"""The `solid` sign: the material as modelled.

Thin walls stay thin and enclosed cavities are outside. Inside is where two tests agree:

* the generalized winding number of the mesh after orientation repair (see `orientation`)
  exceeds 1/2: overlapping parts add up (their union is inside), a cavity's inward-facing
  wall subtracts, and holes only blur w near them;
* the point is not in open space: not within the clearance of a grid node the flood fill
  of `filled` reaches from outside. Material is never such space, so this only removes what
  the winding number alone would invent, the inside of open containers made of
  zero-thickness sheets (w is 5/6 in an open box). Thin material behind a hole wider than
  the seal stays material: no clear node is that close to it.

A mesh made only of zero-thickness sheets therefore has no material, and the pipeline's
`gt_flag` says so.
"""

from __future__ import annotations

import numpy as np

from .distance import Closest, Surface
from .filled import FilledSign
from .linking import OUTSIDE
from .orientation import orient
from .rays import Rays
from .winding import WindingNumber


class SolidSign:
    def __init__(self, surface: Surface, rays: Rays, filled: FilledSign):
        self.filled = filled
        self.orientation = orient(surface.vertices, surface.faces, rays)
        self.winding = WindingNumber(surface.vertices, self.orientation.faces)

    def inside(self, points: np.ndarray, closest: Closest) -> np.ndarray:
        return (self.winding.at(points, closest.distance) > 0.5) & (self.filled.grid.link(points) != OUTSIDE)
