"""File formats the package reads as meshes (trimesh's loaders), by suffix, matched in any case,
and the one a run keeps its meshes in (implicit3d.meshfile)."""

MESH_EXTENSIONS = (".obj", ".ply", ".stl", ".off", ".glb", ".gltf")
MESH_SUFFIX = ".ply.xz"  # normalized meshes and reconstructions: binary PLY, xz-compressed
