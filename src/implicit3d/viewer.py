"""The interactive viewer: results/viewer.html, one self-contained page that works offline.

Per object and model it holds the normalized ground-truth mesh and the reconstruction
(simplified for the page when large), the model's sign errors on a subsample of the object's
test points, and the metrics of the eval and reconstruction JSON. The page (template and
vendored three.js in `viewer_assets/`) draws both meshes side by side with one orbit camera.
Its arrays (16-bit positions, uint16/uint32 faces) are one gzip-compressed base64 blob that
the JSON data refers to by offset; `read_page` takes a page apart again.
"""

from __future__ import annotations

import base64
import gzip
import html
import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import trimesh

from . import __version__, meshfile
from .evaluation import predict_numpy
from .io import atomic_path, read_json, read_points
from .metrics import FALSE_INSIDE, FALSE_OUTSIDE, sign_error_map
from .simplify import simplify
from .viewer_assets import TEMPLATE, THREE_JS

log = logging.getLogger("implicit3d")

MAX_FACES = 20000  # per mesh on the page, at most ...
FACE_BUDGET = 400000  # ... and over all its meshes (many objects: fewer faces each, down to MIN_FACES)
MIN_FACES = 2000
# The self-contained report shows the page in a frame from a base64 data: URL, which Chromium
# opens only up to 2 MiB (4/3 of the page): a larger page is fine as a file, blank in the report.
REPORT_LIMIT = (2 * 1024 * 1024 - 1024) * 3 // 4  # the data: URL's header fits in the 1 KiB
MAX_POINTS = 20000  # test points per object and model whose sign is checked (the errors are drawn)
# Metrics shown beside the view (the page lists those present, in its own order).
METRIC_KEYS = (
    "f1_near", "f1_volume", "iou_near", "iou_volume", "precision_near", "recall_near", "sdf_mae_band",
    "chamfer", "normal_consistency", "model_bytes", "train_seconds", "recon_faces", "recon_note",
)  # fmt: skip


@dataclass(frozen=True)
class Entry:
    """One object and model: the files the page is made from."""

    object: str
    model: str
    truth: str  # results/normalized/{object}.ply.xz
    samples: str  # results/samples/{tag}/{object}.parquet (its test split)
    model_file: str  # results/models/{model}/{tag}/{object}.pt
    evaluation: str  # results/eval/{model}/{tag}/{object}.json
    mesh: str  # results/meshes/{model}/{tag}/{object}.ply.xz
    mesh_info: str  # results/meshes/{model}/{tag}/{object}.json


def entries_from_lists(
    objects: list[str], models: list[str], *, truth, samples, model_files, evaluations, meshes, mesh_infos
) -> list[Entry]:
    """Entries from per-object lists (`truth`, `samples`) and per-(model, object) lists in
    model-major order (`for m in models for o in objects`, as the workflow lists them)."""
    objects, models = list(objects), list(models)
    pairs = [(m, o) for m in models for o in objects]
    per_object = {"truth": truth, "samples": samples}
    per_pair = {"model_files": model_files, "evaluations": evaluations, "meshes": meshes, "mesh_infos": mesh_infos}
    for lists, n in ((per_object, len(objects)), (per_pair, len(pairs))):
        for name, values in lists.items():
            if len(values) != n:
                raise ValueError(f"viewer: {len(values)} {name} for {len(objects)} objects and {len(models)} models (expected {n})")
    index = {o: i for i, o in enumerate(objects)}
    return [
        Entry(o, m, str(truth[index[o]]), str(samples[index[o]]), *(str(per_pair[name][k]) for name in per_pair))
        for k, (m, o) in enumerate(pairs)
    ]


class Blob:
    """The page's binary arrays, concatenated (each at a multiple of 4 bytes, so the page can view
    it in place as a typed array); the page holds it gzip-compressed in base64."""

    DTYPES = {"u2": "<u2", "u4": "<u4", "f4": "<f4"}

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self.size = 0

    def add(self, array: np.ndarray, dtype: str) -> dict:
        """Store `array` as `dtype` (u2, u4 or f4); returns its reference for the page."""
        raw = np.ascontiguousarray(array, dtype=self.DTYPES[dtype]).tobytes()
        ref = {"offset": self.size, "count": len(raw) // int(dtype[1]), "dtype": dtype}
        raw += b"\0" * (-len(raw) % 4)
        self._parts.append(raw)
        self.size += len(raw)
        return ref

    def getvalue(self) -> bytes:
        return b"".join(self._parts)


def read_array(blob: bytes, ref: dict) -> np.ndarray:
    return np.frombuffer(blob, dtype=Blob.DTYPES[ref["dtype"]], count=ref["count"], offset=ref["offset"])


def add_positions(blob: Blob, points: np.ndarray) -> dict:
    """(N, 3) positions quantized to 16 bits per axis over their bounding box: at most 1/65535
    of the box (3e-5 in the normalized frame) off, at half the size of float32."""
    p = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    lo = p.min(axis=0) if len(p) else np.zeros(3)
    span = (p.max(axis=0) - lo) if len(p) else np.zeros(3)
    step = np.where(span > 0, span / 65535, 1.0)
    q = np.round((p - lo) / step) if len(p) else np.zeros((0, 3))
    return {"lo": lo.tolist(), "step": step.tolist(), "data": blob.add(q, "u2")}


def read_positions(blob: bytes, ref: dict) -> np.ndarray:
    q = read_array(blob, ref["data"]).reshape(-1, 3)
    return (np.asarray(ref["lo"]) + q * np.asarray(ref["step"])).astype(np.float32)


def mesh_payload(blob: Blob, mesh: trimesh.Trimesh, max_faces: int = MAX_FACES) -> dict | None:
    """The mesh as the page reads it (simplified to `max_faces`): quantized vertices and uint16
    (or uint32) faces in `blob`; None when it has no faces."""
    if len(mesh.faces) == 0:
        return None
    drawn = simplify(mesh, max_faces)  # for drawing only; the metrics use the full meshes
    vertices = np.asarray(drawn.vertices)
    return {
        "vertices": add_positions(blob, vertices),
        "faces": blob.add(np.asarray(drawn.faces), "u2" if len(vertices) <= 65535 else "u4"),
        "faces_full": int(len(mesh.faces)),
        "faces_drawn": int(len(drawn.faces)),
    }


def read_mesh(blob: bytes, ref: dict) -> tuple[np.ndarray, np.ndarray]:
    """Vertices (float32) and faces of a `mesh_payload`, as the page draws them."""
    return read_positions(blob, ref["vertices"]), read_array(blob, ref["faces"]).reshape(-1, 3)


def subsample_test_points(samples: str | os.PathLike, max_points: int = MAX_POINTS, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """At most `max_points` test points (N, 3) and their true SDF, drawn without replacement."""
    frame, _ = read_points(samples)
    test = frame[frame["split"] == "test"]
    if len(test) > max_points:
        rows = np.sort(np.random.default_rng(seed).choice(len(test), size=max_points, replace=False))
        test = test.iloc[rows]
    return test[["x", "y", "z"]].to_numpy(np.float32), test["sdf"].to_numpy(np.float32)


def sign_errors(blob: Blob, points: np.ndarray, sdf_true: np.ndarray, sdf_pred: np.ndarray) -> dict:
    """False inside (predicted < 0, truly >= 0) and false outside points into `blob`, as
    `metrics.sign_error_map` sorts them."""
    category = sign_error_map(sdf_true, sdf_pred)
    false_inside, false_outside = points[category == FALSE_INSIDE], points[category == FALSE_OUTSIDE]
    return {
        "points": int(len(points)),
        "false_inside": add_positions(blob, false_inside),
        "false_inside_count": int(len(false_inside)),
        "false_outside": add_positions(blob, false_outside),
        "false_outside_count": int(len(false_outside)),
    }


def _metrics(*records: dict) -> dict:
    out = {}
    for rec in records:
        for key in METRIC_KEYS:
            value = rec.get(key)
            if isinstance(value, float) and not np.isfinite(value):
                value = None  # JSON has no NaN
            if key in rec:
                out[key] = value
    return out


def faces_per_mesh(meshes: int, max_faces: int = MAX_FACES, face_budget: int = FACE_BUDGET) -> int:
    """The face cap of each of `meshes` meshes: `max_faces`, less where the page would pass `face_budget`."""
    return max(min(MIN_FACES, max_faces), min(max_faces, face_budget // max(meshes, 1)))


def collect(
    entries: list[Entry],
    max_faces: int = MAX_FACES,
    max_points: int = MAX_POINTS,
    up: str = "y",
    seed: int = 0,
    face_budget: int = FACE_BUDGET,
    categories: dict[str, str] | None = None,
) -> tuple[dict, bytes]:
    """Everything the page shows: the JSON-ready data, and the arrays it refers to (`Blob`).
    With `categories` (object -> label) the page groups its objects by category, worst first."""
    from .training import load_model

    if not entries:
        raise ValueError("viewer: no objects to show")
    objects = list(dict.fromkeys(e.object for e in entries))
    models = list(dict.fromkeys(e.model for e in entries))
    max_faces = faces_per_mesh(len(objects) + len(entries), max_faces, face_budget)
    log.info("%d objects x %d models: at most %d faces per mesh on the page", len(objects), len(models), max_faces)
    blob = Blob()
    truth: dict[str, dict] = {}
    recon: dict[str, dict] = {m: {} for m in models}
    tests: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for e in entries:
        if e.object not in truth:
            truth[e.object] = {"mesh": mesh_payload(blob, meshfile.read_mesh(e.truth), max_faces)}
            tests[e.object] = subsample_test_points(e.samples, max_points, seed)
        points, sdf_true = tests[e.object]
        model, _ = load_model(e.model_file)
        errors = sign_errors(blob, points, sdf_true, predict_numpy(model, points))
        recon[e.model][e.object] = {
            "mesh": mesh_payload(blob, meshfile.read_mesh(e.mesh), max_faces),
            "errors": errors,
            "metrics": _metrics(read_json(e.evaluation), read_json(e.mesh_info)),
        }
        log.info(
            "%s / %s: %d false inside, %d false outside of %d test points",
            e.object, e.model, errors["false_inside_count"], errors["false_outside_count"], errors["points"],
        )  # fmt: skip
    missing = [(m, o) for m in models for o in objects if o not in recon[m]]
    if missing:
        raise ValueError(f"viewer: every model needs every object; missing (model, object): {missing[:5]}")
    data = {"version": __version__, "objects": objects, "models": models, "up": up, "max_faces": max_faces, "max_points": max_points, "truth": truth, "recon": recon,
            "categories": {o: (categories or {}).get(o, "") for o in objects} if categories else {}}  # fmt: skip
    return data, blob.getvalue()


def render_html(
    data: dict, blob: bytes, title: str = "implicit3d viewer", template: str | os.PathLike = TEMPLATE, three_js: str | os.PathLike = THREE_JS
) -> str:
    """The page: the template with the data, the arrays (gzip, base64) and three.js inlined
    (one pass: inserted text is not scanned again)."""
    # Inside <script> only "</" could end the element early; "<\/" means the same in JSON.
    payload = json.dumps(data, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    three = Path(three_js).read_text(encoding="utf-8")
    if "</script" in three.lower():
        raise ValueError(f"{three_js}: contains '</script', cannot be inlined")
    values = {
        "title": html.escape(title),
        "data": payload,
        "blob": base64.b64encode(gzip.compress(blob, compresslevel=9, mtime=0)).decode("ascii"),
        "three": three,
        "max_faces": f"{data['max_faces']:,}",
        "max_points": f"{data['max_points']:,}",
    }
    text = Path(template).read_text(encoding="utf-8")
    unknown = set(re.findall(r"\{\{(\w+)\}\}", text)) - set(values)
    if unknown:
        raise ValueError(f"{template}: unknown fields {sorted(unknown)}")
    return re.sub(r"\{\{(\w+)\}\}", lambda m: values[m.group(1)], text)


def read_page(page: str) -> tuple[dict, bytes]:
    """The data and the arrays of a viewer page (`read_mesh`, `read_positions` take them apart)."""
    data = re.search(r'<script id="viewer-data" type="application/json">(.*?)</script>', page, re.S)
    blob = re.search(r'<script id="viewer-blob" type="application/gzip">(.*?)</script>', page, re.S)
    if not data or not blob:
        raise ValueError("not a viewer page: no viewer-data or viewer-blob element")
    return json.loads(data.group(1)), gzip.decompress(base64.b64decode(blob.group(1)))


def write_viewer(
    entries: list[Entry],
    out: str | os.PathLike,
    max_faces: int = MAX_FACES,
    max_points: int = MAX_POINTS,
    up: str = "y",
    title: str = "implicit3d viewer",
    face_budget: int = FACE_BUDGET,
    categories: dict[str, str] | None = None,
) -> int:
    """Write the page; returns its size in bytes."""
    data, blob = collect(entries, max_faces, max_points, up, face_budget=face_budget, categories=categories)
    page = render_html(data, blob, title)
    with atomic_path(out) as tmp:
        tmp.write_text(page, encoding="utf-8")
    size = len(page.encode("utf-8"))
    log.info("wrote %s: %d objects x %d models, %.2f MB", out, len(data["objects"]), len(data["models"]), size / 1e6)
    if size > REPORT_LIMIT:
        log.warning(
            "%s: %.2f MB is too large for the self-contained Snakemake report (%.1f MB at most: Chromium opens data: URLs "
            "of up to 2 MB in its frames); open the file itself, or make the report as .zip",
            out, size / 1e6, REPORT_LIMIT / 1e6,
        )  # fmt: skip
    return size
