"""results/viewer.html: the data it embeds, and the page in headless Chromium.

The browser tests drive Debian's `chromium` through its command line only (no driver, no
Python package): `--screenshot` for the picture and `--dump-dom` for the page's state, which
the viewer writes into <body data-*> (status, WebGL version, object shown, console errors it
caught), each after `--virtual-time-budget` ms; Chromium's own log (`--enable-logging=stderr`)
shows every console message too. WebGL runs on SwiftShader (CPU). They skip where Chromium is
absent (Debian/Ubuntu: apt-get install -y chromium; .ci/run installs it).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest
import torch
import trimesh

from implicit3d.io import write_json, write_points
from implicit3d.meshfile import write_mesh
from implicit3d.models import DenseGridSDF
from implicit3d.training import save_model
from implicit3d.viewer import (
    REPORT_LIMIT,
    Blob,
    Entry,
    collect,
    entries_from_lists,
    faces_per_mesh,
    mesh_payload,
    read_mesh,
    read_page,
    read_positions,
    render_html,
    sign_errors,
    write_viewer,
)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (Debian/Ubuntu: apt-get install -y chromium)")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--use-gl=swiftshader", "--enable-unsafe-swiftshader",
    "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--enable-logging=stderr", "--v=0",
]  # fmt: skip
WIDTH, HEIGHT = 1000, 600
# Console lines in Chromium's log that are not the page's fault: SwiftShader's note that
# reading pixels back (the screenshot) stalls the pipeline.
BENIGN = re.compile(r"GL Driver Message \(OpenGL, Performance")


# --- a tiny results tree: two objects, one model ---


def _sphere_model(radius: float) -> DenseGridSDF:
    """A dense-grid model whose SDF is a sphere of `radius`: a known, imperfect prediction."""
    model = DenseGridSDF(resolution=16)
    axis = torch.linspace(-1, 1, 17)
    z, y, x = torch.meshgrid(axis, axis, axis, indexing="ij")
    with torch.no_grad():
        model.grid.copy_(torch.sqrt(x**2 + y**2 + z**2) - radius)
    return model


def _box_sdf(p: np.ndarray, half: np.ndarray) -> np.ndarray:
    q = np.abs(p) - half
    return np.linalg.norm(np.maximum(q, 0), axis=1) + np.minimum(q.max(axis=1), 0)


OBJECTS = {
    # name: (ground-truth mesh, its analytic SDF, the model's sphere radius, the reconstruction)
    "ball": (
        trimesh.creation.icosphere(subdivisions=5, radius=0.6),  # 20,480 faces: simplified on the page
        lambda p: np.linalg.norm(p, axis=1) - 0.6,
        0.5,
        trimesh.creation.icosphere(subdivisions=3, radius=0.5),
    ),
    "slab": (
        trimesh.creation.box(extents=(1.6, 0.4, 1.0)),
        lambda p: _box_sdf(p, np.array([0.8, 0.2, 0.5])),
        0.35,
        trimesh.creation.icosphere(subdivisions=3, radius=0.35),
    ),
}


def make_results(root: Path, objects=OBJECTS, empty: tuple[str, ...] = ()) -> list[Entry]:
    """The files the viewer reads, laid out as under results/; reconstructions in `empty` have no faces."""
    rng = np.random.default_rng(0)
    m, tag, stag = "grid", "0123456789", "abcdef0123"
    names = list(objects)
    paths = {
        "truth": [root / f"normalized/{o}.ply.xz" for o in names],
        "samples": [root / f"samples/{stag}/{o}.parquet" for o in names],
        "model_files": [root / f"models/{m}/{tag}/{o}.pt" for o in names],
        "evaluations": [root / f"eval/{m}/{tag}/{o}.json" for o in names],
        "meshes": [root / f"meshes/{m}/{tag}/{o}.ply.xz" for o in names],
        "mesh_infos": [root / f"meshes/{m}/{tag}/{o}.json" for o in names],
    }
    for files in paths.values():
        for f in files:
            f.parent.mkdir(parents=True, exist_ok=True)
    for i, (name, (truth, sdf, radius, recon)) in enumerate(objects.items()):
        write_mesh(paths["truth"][i], truth)
        near = truth.sample(3000, seed=i) + rng.normal(0, 0.02, (3000, 3))
        volume = rng.normal(size=(3000, 3))
        volume *= (rng.random(3000) ** (1 / 3) / np.linalg.norm(volume, axis=1))[:, None]
        pts = np.concatenate([near, volume, rng.uniform(-1, 1, (500, 3))])
        frame = pd.DataFrame(pts.astype(np.float32), columns=["x", "y", "z"])
        frame["sdf"] = sdf(pts).astype(np.float32)
        frame["kind"] = ["near"] * 3000 + ["volume"] * 3500
        frame["split"] = ["test"] * 6000 + ["train"] * 500
        write_points(paths["samples"][i], frame, {})
        save_model(paths["model_files"][i], _sphere_model(radius), "grid", {"resolution": 16}, "float32")
        write_json(paths["evaluations"][i], {"object": name, "model": m, "f1_near": 0.5 + i / 10, "f1_volume": 0.9, "model_bytes": 19652})
        write_mesh(paths["meshes"][i], None if name in empty else recon)
        faces = 0 if name in empty else len(recon.faces)
        write_json(paths["mesh_infos"][i], {"chamfer": float("nan") if name in empty else 0.01, "recon_faces": faces, "recon_note": None})
    return entries_from_lists(names, [m], **{k: [str(p) for p in v] for k, v in paths.items()})


# --- the data ---


def test_entries_pair_objects_with_model_major_lists():
    per_pair = [f"{m}/{o}" for m in ("a", "b") for o in ("x", "y")]
    entries = entries_from_lists(
        ["x", "y"], ["a", "b"], truth=["tx", "ty"], samples=["sx", "sy"],
        model_files=per_pair, evaluations=per_pair, meshes=per_pair, mesh_infos=per_pair,
    )  # fmt: skip
    assert [(e.model, e.object, e.truth, e.model_file) for e in entries] == [
        ("a", "x", "tx", "a/x"), ("a", "y", "ty", "a/y"), ("b", "x", "tx", "b/x"), ("b", "y", "ty", "b/y"),
    ]  # fmt: skip
    with pytest.raises(ValueError, match="expected 4"):
        entries_from_lists(["x", "y"], ["a", "b"], truth=["tx", "ty"], samples=["sx", "sy"],
                           model_files=per_pair[:3], evaluations=per_pair, meshes=per_pair, mesh_infos=per_pair)  # fmt: skip


def test_sign_errors_follow_the_metrics_convention():
    points = np.arange(15, dtype=np.float32).reshape(5, 3)
    truth = np.array([1.0, -1.0, 1.0, -1.0, 0.0])
    pred = np.array([1.0, -1.0, -1.0, 1.0, -0.1])
    blob = Blob()
    errors = sign_errors(blob, points, truth, pred)  # 0 counts as outside, as in the metrics
    assert (errors["points"], errors["false_inside_count"], errors["false_outside_count"]) == (5, 2, 1)
    raw = blob.getvalue()
    assert np.allclose(read_positions(raw, errors["false_inside"]), points[[2, 4]], atol=1e-3)
    assert np.allclose(read_positions(raw, errors["false_outside"]), points[[3]])


def test_large_meshes_are_simplified_for_the_page():
    mesh = trimesh.creation.icosphere(subdivisions=5)  # 20,480 faces
    blob = Blob()
    payload = mesh_payload(blob, mesh, max_faces=2000)
    assert payload["faces_full"] == 20480 and 0 < payload["faces_drawn"] <= 2000 and payload["faces"]["dtype"] == "u2"
    vertices, faces = read_mesh(blob.getvalue(), payload)
    assert len(faces) == payload["faces_drawn"] and faces.max() < len(vertices)
    assert np.allclose(np.linalg.norm(vertices, axis=1), 1.0, atol=0.05)  # still the unit sphere
    box = trimesh.creation.box()
    payload = mesh_payload(blob, box, max_faces=2000)
    vertices, faces = read_mesh(blob.getvalue(), payload)
    assert payload["faces_drawn"] == 12 and np.array_equal(faces, box.faces)
    assert np.abs(vertices - box.vertices).max() < 1e-4  # 16-bit positions over the bounding box
    assert mesh_payload(blob, trimesh.Trimesh(np.zeros((0, 3)), np.zeros((0, 3), dtype=int))) is None


def test_many_meshes_share_a_face_budget():
    assert faces_per_mesh(8) == 20000  # the sample: 4 objects, one model
    assert faces_per_mesh(100 * 3, face_budget=400000) == 2000  # 100 objects, two models: the floor
    assert faces_per_mesh(40, max_faces=20000, face_budget=400000) == 10000
    assert faces_per_mesh(10, max_faces=500) == 500


def test_page_embeds_meshes_errors_and_metrics_offline(tmp_path):
    entries = make_results(tmp_path / "results", empty=("slab",))
    data, blob = collect(entries, max_faces=5000, max_points=4000)
    assert data["objects"] == ["ball", "slab"] and data["models"] == ["grid"]
    ball = data["recon"]["grid"]["ball"]
    assert data["truth"]["ball"]["mesh"]["faces_drawn"] <= 5000 < data["truth"]["ball"]["mesh"]["faces_full"]
    assert ball["errors"]["points"] == 4000  # a subsample of the 6,000 test points, train rows left out
    # The model's sphere (r 0.5) is inside the true one (r 0.6): only false outside, between the two.
    assert ball["errors"]["false_inside_count"] == 0 and ball["errors"]["false_outside_count"] > 100
    radii = np.linalg.norm(read_positions(blob, ball["errors"]["false_outside"]), axis=1)
    assert radii.min() > 0.48 and radii.max() < 0.61
    slab = data["recon"]["grid"]["slab"]
    assert slab["mesh"] is None and slab["errors"]["false_inside_count"] > 0 and slab["errors"]["false_outside_count"] > 0
    assert slab["metrics"] == {"f1_near": 0.6, "f1_volume": 0.9, "model_bytes": 19652, "chamfer": None, "recon_faces": 0, "recon_note": None}

    page = render_html(data, blob, title="a <b> title")
    assert read_page(page) == (json.loads(json.dumps(data)), blob)
    assert len(page.encode()) < REPORT_LIMIT  # small enough for the report's frame
    assert "<title>a &lt;b&gt; title</title>" in page and "{{" not in page.split('id="viewer-data"')[0]
    # One file: nothing fetched at view time.
    assert not re.search(r"<(script|img|iframe)[^>]*\ssrc=|<link\b|\bimport\s*\(|\bfetch\s*\(", page)
    assert page.count("<script") == page.count("</script>") == 5


# --- the page in headless Chromium ---


def chromium(url: str, tmp_path: Path, *args: str, budget_ms: int = 8000) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    cmd = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", f"--window-size={WIDTH},{HEIGHT}", f"--virtual-time-budget={budget_ms}", *args, url]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, f"chromium exited {proc.returncode}:\n{proc.stderr[-3000:]}"
    return proc


def console_problems(stderr: str) -> list[str]:
    """Console messages (any level: Chromium logs them all as INFO:CONSOLE) that are not benign."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line and not BENIGN.search(line)]


def body_state(dom: str) -> dict[str, str]:
    tag = re.search(r"<body([^>]*)>", dom)
    assert tag, f"no <body> in the dumped DOM:\n{dom[:2000]}"
    return dict(re.findall(r'data-([\w-]+)="([^"]*)"', tag.group(1)))


def view_of(url: str, tmp_path: Path, name: str) -> tuple[np.ndarray, dict[str, str]]:
    """The page's screenshot (RGB floats) and <body> state after loading `url`; fails on any
    console message or error the page caught."""
    shot = tmp_path / f"{name}.png"
    proc = chromium(url, tmp_path, f"--screenshot={shot}")
    assert console_problems(proc.stderr) == [], "console messages while taking the screenshot"
    dom = chromium(url, tmp_path, "--dump-dom")
    assert console_problems(dom.stderr) == [], "console messages while dumping the DOM"
    state = body_state(dom.stdout)
    problems = re.search(r'<pre id="problems"[^>]*>(.*?)</pre>', dom.stdout, re.S)
    assert state.get("problems") == "0", f"the page caught errors: {problems.group(1) if problems else state}"
    return mpimg.imread(shot)[..., :3], state


def canvas_halves(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two panels, cropped well inside the canvas (below the controls, left of the metrics)."""
    h, w = image.shape[:2]
    view = image[int(0.15 * h) : int(0.95 * h), : int(0.7 * w)]
    return view[:, : view.shape[1] // 2 - 5], view[:, view.shape[1] // 2 + 5 :]


def drawn(panel: np.ndarray) -> float:
    """Fraction of pixels that are not the white background."""
    return float(np.mean(np.abs(panel - 1.0).max(axis=-1) > 0.08))


@needs_chromium
def test_webgl_runs_in_headless_chromium(tmp_path):
    page = tmp_path / "gl.html"
    page.write_text(
        "<!doctype html><body><canvas id=c></canvas><script>"
        "const gl = document.getElementById('c').getContext('webgl2');"
        "document.body.dataset.gl = gl ? gl.getParameter(gl.VERSION) : 'none';</script></body>"
    )
    state = body_state(chromium(page.as_uri(), tmp_path, "--dump-dom", budget_ms=2000).stdout)
    assert state["gl"].startswith("WebGL 2.0"), f"no WebGL 2 under SwiftShader: {state['gl']}"


@needs_chromium
def test_viewer_draws_both_meshes_and_switches_objects(tmp_path):
    out = tmp_path / "viewer.html"
    write_viewer(make_results(tmp_path / "results"), out, max_faces=5000, max_points=4000)
    views = {}
    for name in ("ball", "slab"):
        image, state = view_of(f"{out.as_uri()}#object={name}&model=grid", tmp_path, name)
        assert (state["status"], state["object"], state["model"]) == ("ready", name, "grid")
        assert state["webgl"] == "webgl2"
        assert int(state["false-outside"]) > 0
        for panel in canvas_halves(image):  # ground truth left, reconstruction right
            gray = panel.mean(axis=-1)
            assert gray.std() > 0.05 and 0.01 < drawn(panel) < 0.9, f"{name}: a panel looks blank or flooded"
        views[name] = image
    a, b = (np.concatenate(canvas_halves(views[n]), axis=1) for n in ("ball", "slab"))
    changed = np.abs(a - b).max(axis=-1) > 0.1
    assert changed.mean() > 0.01, "switching objects did not change the picture"


@needs_chromium
def test_objects_are_grouped_by_category_worst_first(tmp_path):
    """With categories, the object list has one group per category, each worst first by F1 near."""
    objects = {**OBJECTS, "ball2": OBJECTS["ball"]}
    out = tmp_path / "viewer.html"
    categories = {"ball": "round", "ball2": "round", "slab": "flat"}
    write_viewer(make_results(tmp_path / "results", objects), out, max_faces=2000, max_points=1000, categories=categories)
    dom = chromium(out.as_uri() + "#object=slab&model=grid", tmp_path, "--dump-dom").stdout
    assert body_state(dom)["status"] == "ready"
    select = re.search(r'<select id="object">(.*?)</select>', dom, re.S).group(1)
    groups = re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', select, re.S)
    assert [label for label, _ in groups] == ["flat · worst first", "round · worst first"]
    round_options = re.findall(r'<option value="([^"]+)">([^<]+)</option>', groups[1][1])
    # make_results gives F1 near 0.5 + i / 10 in object order: ball 0.5, ball2 0.7.
    assert round_options == [("ball", "ball · F1 0.5000"), ("ball2", "ball2 · F1 0.7000")]
