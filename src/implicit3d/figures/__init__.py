"""Figures for looking at the results (PNG, headless matplotlib), one module per kind:

- `slices`: SDF cross-sections of the ground truth and a model, and the model's sign errors;
- `render`: the reconstruction rendered beside the ground-truth mesh;
- `trace`: the model's SDF sphere-traced, and the steps per ray;
- `collection`: F1 near the surface against F1 in the volume, and model size against F1, per run;

and what they share: `raster` (meshes drawn with a z-buffer, the camera the sphere tracer uses too)
and `style` (the backend and how a PNG is written).

The stages that write them are in `implicit3d.stages.figures` and `implicit3d.stages.report`.
"""

from .collection import plot_f1_scatter, plot_size_vs_f1
from .render import plot_render
from .slices import PLANES, plot_slices, slice_data, slice_points
from .trace import plot_trace

__all__ = ["PLANES", "plot_f1_scatter", "plot_render", "plot_size_vs_f1", "plot_slices", "plot_trace", "slice_data", "slice_points"]
