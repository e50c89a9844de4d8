"""The normalize stage: one mesh loaded, validated, cleaned and scaled into the unit sphere."""

from __future__ import annotations

import logging
import os

from .. import __version__
from ..io import write_json
from ..mesh import clean_mesh, decimate_mesh, load_mesh, normalize_mesh
from ..meshfile import write_mesh

log = logging.getLogger("implicit3d")


def normalize(mesh_in: str, mesh_out: str, transform_out: str, max_faces: int | None = None, decimate: bool = False) -> dict:
    """Load, validate, clean and normalize one mesh; write it (implicit3d.meshfile) plus its transform.

    Above `max_faces` the mesh fails, or with `decimate` is simplified down to it."""
    raw = load_mesh(mesh_in, max_faces=None if decimate else max_faces)
    cleaned = clean_mesh(raw, mesh_in)
    decimated = bool(decimate and max_faces is not None and len(cleaned.faces) > max_faces)
    if decimated:
        cleaned = decimate_mesh(cleaned, max_faces, mesh_in)
    mesh, transform = normalize_mesh(cleaned)
    info = {
        **transform.as_dict(),
        "source": os.fspath(mesh_in),
        "faces_in": int(len(raw.faces)),
        "faces": int(len(mesh.faces)),
        "vertices": int(len(mesh.vertices)),
        "watertight": bool(mesh.is_watertight),
        "bodies": int(mesh.body_count),
        "decimated": decimated,
        "implicit3d_version": __version__,
    }
    write_mesh(mesh_out, mesh)
    write_json(transform_out, info)
    log.info("normalized %s: %d -> %d faces, scale %.4g, watertight=%s", mesh_in, info["faces_in"], info["faces"], transform.scale, info["watertight"])
    return info
