"""File formats the package reads as meshes (trimesh's loaders), by suffix, matched in any case."""

MESH_EXTENSIONS = (".obj", ".ply", ".stl", ".off", ".glb", ".gltf")
