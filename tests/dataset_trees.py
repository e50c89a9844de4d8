"""Small trees shaped like public datasets as they ship, made from tiny meshes in code (no download).

Each builder writes the dataset's own side files too (materials, textures, metadata, archives), which
a run must skip, and returns the ids a run must plan.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import trimesh

SYNSETS = {"02691156": "airplane,aeroplane,plane", "03001627": "chair"}


def solid(kind: int) -> trimesh.Trimesh:
    """A small closed mesh, a different one per `kind`."""
    if kind % 3 == 0:
        return trimesh.creation.box(extents=(1.0, 0.6 + 0.1 * kind, 0.4))
    if kind % 3 == 1:
        return trimesh.creation.icosphere(subdivisions=1, radius=0.5 + 0.05 * kind)
    return trimesh.creation.cylinder(radius=0.3, height=0.9, sections=10)


def _obj_with_material(mesh: trimesh.Trimesh, path: Path, texture: str) -> None:
    """An OBJ as ShapeNet ships it: `mtllib`, groups, and a material whose texture may be missing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"mtllib {path.stem}.mtl", "o body"]
    lines += [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in mesh.vertices]
    half = len(mesh.faces) // 2
    lines.append("g part_a\nusemtl skin")
    lines += [f"f {a + 1} {b + 1} {c + 1}" for a, b, c in mesh.faces[:half]]
    lines.append("g part_b\nusemtl skin")
    lines += [f"f {a + 1} {b + 1} {c + 1}" for a, b, c in mesh.faces[half:]]
    path.write_text("\n".join(lines) + "\n")
    path.with_suffix(".mtl").write_text(f"newmtl skin\nKd 0.8 0.8 0.8\nmap_Kd {texture}\n")


def shapenet_v2(root: Path, per_category: int = 2, taxonomy: bool = True) -> list[str]:
    """<synset>/<model id>/models/model_normalized.{obj,mtl,json,solid.binvox} plus images/, taxonomy.json."""
    root.mkdir(parents=True, exist_ok=True)
    ids = []
    for c, synset in enumerate(SYNSETS):
        for k in range(per_category):
            model = f"{c}a{k}f0e3eab45ca15dd86060f189eb133"
            folder = root / synset / model
            _obj_with_material(solid(c + k), folder / "models" / "model_normalized.obj", "../images/texture0.jpg")
            (folder / "models" / "model_normalized.json").write_text(json.dumps({"id": model}))
            (folder / "models" / "model_normalized.solid.binvox").write_bytes(b"#binvox 1\n")
            (folder / "images").mkdir()
            (folder / "images" / "texture1.png").write_bytes(b"\x89PNG\r\n")
            ids.append(f"{synset}/{model}")
    if taxonomy:
        entries = [{"synsetId": s, "name": n, "children": [], "numInstances": per_category} for s, n in SYNSETS.items()]
        (root / "taxonomy.json").write_text(json.dumps(entries))
    return sorted(ids)


def shapenet_v1(root: Path, per_category: int = 2) -> list[str]:
    """<synset>/<model id>/model.obj (+ model.mtl, images/)."""
    ids = []
    for c, synset in enumerate(SYNSETS):
        for k in range(per_category):
            model = f"{c}b{k}d5a2f0c1"
            _obj_with_material(solid(c + k), root / synset / model / "model.obj", "texture.jpg")
            ids.append(f"{synset}/{model}")
    return sorted(ids)


def off_text(mesh: trimesh.Trimesh, malformed: bool = False) -> str:
    """An OFF file; `malformed` joins 'OFF' and the counts on the first line, as many ModelNet files do."""
    counts = f"{len(mesh.vertices)} {len(mesh.faces)} 0"
    head = [f"OFF{counts}"] if malformed else ["OFF", counts]
    return "\n".join(head + [f"{x:.6f} {y:.6f} {z:.6f}" for x, y, z in mesh.vertices] + [f"3 {a} {b} {c}" for a, b, c in mesh.faces]) + "\n"


def modelnet(root: Path, classes=("chair", "bed"), per_split: int = 1) -> list[str]:
    """<class>/{train,test}/<class>_NNNN.off, the first of each class with a malformed header; a README."""
    root.mkdir(parents=True, exist_ok=True)
    ids = []
    (root / "README.txt").write_text("ModelNet40\n")
    for c, name in enumerate(classes):
        number = 1
        for split in ("train", "test"):
            for _ in range(per_split):
                path = root / name / split / f"{name}_{number:04d}.off"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(off_text(solid(c + number), malformed=number == 1))
                ids.append(f"{name}/{split}/{name}_{number:04d}")
                number += 1
    (root / "__MACOSX").mkdir()
    (root / "__MACOSX" / "._chair_0001.off").write_bytes(b"\0\5\26\7")
    return sorted(ids)


def objaverse(root: Path, uids=("8476c4170df24cf5bbe6967222d1a42d", "a1b2c3d4e5f60718293a4b5c6d7e8f90"), lvis: bool = True) -> list[str]:
    """glbs/<shard>/<uid>.glb beside object-paths.json.gz (and the LVIS annotations its loader saves);
    each GLB is a scene whose nodes carry transforms."""
    root.mkdir(parents=True, exist_ok=True)
    paths = {}
    for k, uid in enumerate(uids):
        shard = f"000-{k:03d}"
        scene = trimesh.Scene()
        scene.add_geometry(solid(k), node_name="part", transform=trimesh.transformations.translation_matrix([3.0, 0, 0]))
        scene.add_geometry(solid(k + 1), node_name="twin", transform=trimesh.transformations.scale_matrix(0.5))
        path = root / "glbs" / shard / f"{uid}.glb"
        path.parent.mkdir(parents=True, exist_ok=True)
        scene.export(path)
        paths[uid] = f"glbs/{shard}/{uid}.glb"
    (root / "object-paths.json.gz").write_bytes(gzip.compress(json.dumps(paths).encode()))
    if lvis:
        (root / "lvis-annotations.json.gz").write_bytes(gzip.compress(json.dumps({"mug": [uids[0]]}).encode()))
    return sorted(uids)


def thingi10k(root: Path, file_ids=(32770, 34785, 100349)) -> list[str]:
    """raw_meshes/<file id>.stl (one with an upper-case extension) beside metadata.csv."""
    (root / "raw_meshes").mkdir(parents=True)
    for k, file_id in enumerate(file_ids):
        solid(k).export(root / "raw_meshes" / f"{file_id}.{'STL' if k == 0 else 'stl'}")
    (root / "metadata.csv").write_text("file_id,thing_id,license\n" + "".join(f"{f},{k},CC\n" for k, f in enumerate(file_ids)))
    return sorted(str(f) for f in file_ids)


BUILDERS = {"shapenet_v2": shapenet_v2, "shapenet_v1": shapenet_v1, "modelnet": modelnet, "objaverse": objaverse, "thingi10k": thingi10k}
