"""Ground-truth signed distance from a mesh, behind one interface.

Every method returns float64 SDF values, negative inside, in the frame of the vertices
given (the normalized frame in the pipeline). One job per module:

| module | job |
|---|---|
| `truth` | `GroundTruth` per mesh: method and sign dispatch, guards |
| `distance` | exact point-to-triangle distance and coarse distance bounds |
| `bvh` | the trees (numba, surface area heuristic) the search and the rays traverse |
| `nearest` | the compiled closest-face search and its tie sets |
| `threads` | how many threads the ground truth may use (a job's `threads`) |
| `rays` | compiled float64 ray casts: first hits, blocked segments |
| `seal_grid` | the grid flood fill that finds enclosed cavities |
| `filled` | the `filled` sign and the boundary of the filled solid |
| `linking` | the `filled` sign's per-point rules, compiled |
| `holes` | caps over narrow holes, for the rays |
| `morton` | Z-order of points: neighbours in turn |
| `orientation` | per-patch orientation repair by visibility and nesting |
| `winding` | the generalized winding number, evaluated where it decides the sign |
| `solid` | the `solid` sign: winding number of the repaired mesh |
| `backends` | pysdf, trimesh, mesh_to_sdf, for comparison |
| `guards` | sanity guards and the inside-fraction flag |
"""

from .guards import inside_fraction_flag, max_distance
from .threads import set_threads
from .truth import (
    DEFAULT_METHOD,
    DEFAULT_SEAL,
    DEFAULT_SIGN,
    METHODS,
    SIGNS,
    GroundTruth,
    backend_unavailable,
    check_options,
    compute_sdf,
    compute_sdf_guarded,
)
from .winding import igl_signed_distance, winding_number

__all__ = [
    "DEFAULT_METHOD",
    "DEFAULT_SEAL",
    "DEFAULT_SIGN",
    "METHODS",
    "SIGNS",
    "GroundTruth",
    "backend_unavailable",
    "check_options",
    "compute_sdf",
    "compute_sdf_guarded",
    "igl_signed_distance",
    "inside_fraction_flag",
    "max_distance",
    "set_threads",
    "winding_number",
]
