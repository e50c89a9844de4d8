"""The viewer stage: results/viewer.html, one offline page of the run's objects and models."""

from __future__ import annotations

from ..viewer import entries_from_lists, write_viewer


def viewer(objects: list[str], models: list[str], files: dict, out: str, categories: dict | None = None, **settings) -> int:
    """The page from the workflow's per-object lists (`files`: truth, samples, model_files, evaluations,
    meshes, mesh_infos); `settings` are write_viewer's (max_faces, face_budget, max_points, up). Its bytes."""
    entries = entries_from_lists(objects, models, **files)
    return write_viewer(entries, out, categories=categories, **settings)
