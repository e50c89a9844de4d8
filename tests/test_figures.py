import re
import subprocess
import sys
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import torch
import trimesh

from implicit3d.figures import PLANES, plot_render, plot_slices, slice_data, slice_points
from implicit3d.figures.raster import Camera, draw_mesh
from implicit3d.figures.render import AZIM, ELEV, up_to_z
from implicit3d.groundtruth import GroundTruth
from implicit3d.meshfile import read_mesh, write_mesh
from implicit3d.metrics import sign_error_map
from implicit3d.reconstruct import reconstruct_mesh
from implicit3d.spheretrace import trace_image
from implicit3d.stages.figures import render as render_figure
from implicit3d.stages.report import collection_figures, summary_page
from implicit3d.summary import summary_html

REPO = Path(__file__).resolve().parents[1]


class Sphere(torch.nn.Module):
    def __init__(self, radius):
        super().__init__()
        self.radius = radius

    def forward(self, x):
        return x.norm(dim=-1) - self.radius


def _png_shape(path):
    return mpimg.imread(path).shape


def test_sign_error_categories():
    truth = np.array([1.0, -1.0, 1.0, -1.0, 0.0])
    pred = np.array([1.0, -1.0, -1.0, 1.0, -0.1])
    # right outside, right inside, false inside, false outside; 0 counts as outside
    assert sign_error_map(truth, pred).tolist() == [0, 1, 2, 3, 2]


def test_slice_points_lie_on_their_plane_in_image_order():
    pts = slice_points(5, normal=2, horizontal=0, vertical=1)
    assert pts.shape == (25, 3) and np.all(pts[:, 2] == 0)
    grid = pts.reshape(5, 5, 3)
    assert np.all(np.diff(grid[:, :, 0], axis=1) > 0)  # columns go along +x
    assert np.all(np.diff(grid[:, :, 1], axis=0) > 0)  # rows go along +y (origin lower)


def test_slices_of_a_sphere_model_match_a_sphere_mesh(tmp_path):
    mesh = trimesh.creation.icosphere(subdivisions=5, radius=0.6)
    data = slice_data(Sphere(0.6), GroundTruth(mesh), resolution=48)
    assert [d["plane"] for d in data] == list(PLANES)
    for d in data:
        assert d["truth"].shape == d["pred"].shape == (48, 48)
        assert np.abs(d["truth"] - d["pred"]).max() < 0.01  # analytic vs mesh SDF
        assert np.mean(sign_error_map(d["truth"], d["pred"]) >= 2) < 0.01
    plot_slices(data, tmp_path / "s.png", "sphere", domain="sphere")
    h, w, _ = _png_shape(tmp_path / "s.png")
    assert h > 500 and w > 500


def test_render_writes_a_png_also_for_an_empty_reconstruction(tmp_path):
    truth = trimesh.creation.box(extents=(1.0, 0.5, 0.8))
    recon = reconstruct_mesh(Sphere(0.4), resolution=32)
    plot_render(recon, truth, tmp_path / "r.png", "box", max_faces=500)
    assert _png_shape(tmp_path / "r.png")[0] > 300
    write_mesh(tmp_path / "empty.ply", None)
    truth.export(tmp_path / "truth.ply")
    render_figure(read_mesh(tmp_path / "empty.ply"), read_mesh(tmp_path / "truth.ply"), str(tmp_path / "e.png"), "empty")
    assert _png_shape(tmp_path / "e.png")[0] > 300


def _summary(tmp_path):
    rows = [
        {"object": "a<b", "model": "hashgrid", "f1_near": 0.9, "f1_volume": 0.95, "model_bytes": 50000, "chamfer": 0.01},
        {"object": "c", "model": "hashgrid", "f1_near": 0.8, "f1_volume": 0.97, "model_bytes": 50000, "chamfer": float("nan")},
        {"object": "a<b", "model": "siren", "f1_near": 0.7, "f1_volume": 0.9, "model_bytes": 2000, "chamfer": 0.02},
        {"object": "mean", "model": "hashgrid", "f1_near": 0.85, "f1_volume": 0.96, "model_bytes": 50000, "chamfer": 0.01},
    ]
    path = tmp_path / "summary.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_collection_figures(tmp_path):
    path = _summary(tmp_path)
    collection_figures(str(path), f1_out=str(tmp_path / "f1.png"), size_out=str(tmp_path / "size.png"))
    assert _png_shape(tmp_path / "f1.png")[0] > 300
    assert _png_shape(tmp_path / "size.png")[0] > 300


def test_summary_html_is_an_escaped_table(tmp_path):
    path = _summary(tmp_path)
    summary_page(str(path), str(tmp_path / "s.html"))
    text = (tmp_path / "s.html").read_text()
    assert text.startswith("<!doctype html>") and text.count("<tr") == 5  # header + 4 rows
    assert "a&lt;b" in text and "a<b" not in text
    assert '<tr class="mean">' in text
    assert "<td>50,000</td>" in text and "<td>0.0100</td>" in text
    html = summary_html(pd.DataFrame([{"object": "x", "chamfer": float("nan")}]))
    assert "<td></td>" in html  # NaN shows as an empty cell


def test_sign_conventions_figure_shows_what_filled_adds(tmp_path):
    """scripts/sign_figure.py, which draws the figures of docs/ground-truth.md."""
    outer, inner = trimesh.creation.box(extents=(1.2, 1.0, 0.8)), trimesh.creation.box(extents=(1.1, 0.9, 0.7))
    inner.invert()
    trimesh.util.concatenate([outer, inner]).export(tmp_path / "double_box.ply")  # a double-walled closed box
    run = subprocess.run([sys.executable, str(REPO / "scripts" / "sign_figure.py"), str(tmp_path / "double_box.ply"), str(tmp_path / "c.png"),
                          "--resolution", "60"], capture_output=True, text=True, timeout=300)  # fmt: skip
    assert run.returncode == 0, run.stderr
    filled, solid = (float(x) / 100 for x in re.findall(r"(?:filled|solid) ([\d.]+)%", run.stdout))
    assert filled > 3 * solid > 0  # the cavity is inside only under filled
    h, w, _ = _png_shape(tmp_path / "c.png")
    assert h > 500 and w > 500


def test_a_drawn_mesh_lines_up_with_its_sphere_traced_field():
    """The z-buffer draws what the sphere tracer sees through the same camera, pixel for pixel."""
    mesh = trimesh.creation.icosphere(subdivisions=4, radius=0.5)
    mesh.apply_translation([0.1, -0.2, 0.05])
    camera = Camera.framing(mesh, ELEV, AZIM, up_to_z("y"))
    image = draw_mesh(mesh, camera, 96, "#e0a060", camera.light)
    drawn = image.min(axis=2) < 0.99
    field = Sphere(0.5)
    trace = trace_image(lambda x: field(x - torch.tensor([0.1, -0.2, 0.05])), camera.center, camera.window, resolution=96, rotate=up_to_z("y"), elev=ELEV, azim=AZIM, cap=None)
    assert drawn.mean() > 0.6  # the framing fills the picture
    assert np.mean(drawn != trace.hit) < 0.02  # only pixels on the outline differ


def test_the_nearer_face_hides_the_farther():
    near = trimesh.Trimesh([[-1, -1, 0.5], [1, -1, 0.5], [0, 1, 0.5]], [[0, 1, 2]])  # facing the camera: shade 1
    far = trimesh.Trimesh([[-1, -1, -0.9], [1, -1, -0.1], [0, 1, -0.5]], [[0, 1, 2]])  # tilted: darker
    camera = Camera.framing(trimesh.util.concatenate([near, far]), 90.0, -90.0, np.eye(3))  # looking down z
    light = camera.towards

    def draw(*meshes):
        return draw_mesh(trimesh.util.concatenate(list(meshes)), camera, 32, "#ff8040", light)

    alone = draw(near)
    covered = alone.min(axis=2) < 1.0
    assert covered.mean() > 0.3
    for both in (draw(far, near), draw(near, far)):  # whichever comes first
        assert np.allclose(both[covered], alone[covered])
    assert not np.allclose(draw(far)[covered], alone[covered])
    empty = draw_mesh(trimesh.Trimesh(np.zeros((0, 3)), np.zeros((0, 3), dtype=int)), camera, 8, "#ff0000", light)
    assert (empty == 1.0).all()
