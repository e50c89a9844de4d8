"""Ground-truth signed distance from a mesh, behind one interface.

Every method returns float64 SDF values, negative inside, in the frame of the vertices
given (the normalized frame in the pipeline). One job per module:

| module | job |
|---|---|
| `truth` | `GroundTruth` per mesh: method and sign dispatch, guards |
| `distance` | exact point-to-triangle distance and coarse distance bounds |
| `bvh` | the compiled closest-face search (numba) |
| `threads` | how many threads the ground truth may use (a job's `threads`) |
| `rays` | first-hit ray casts (Embree) |
| `seal_grid` | the grid flood fill that finds enclosed cavities |
| `filled` | the `filled` sign and the boundary of the filled solid |
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
