"""The mesh files a run keeps: xz-compressed PLY, read back exactly, and one-line errors for bad files."""

import lzma
import subprocess
import sys

import numpy as np
import pytest
import trimesh

from implicit3d.errors import MeshError
from implicit3d.mesh import load_mesh
from implicit3d.meshfile import MESH_SUFFIX, kept_mesh, read_mesh, write_mesh
from implicit3d.stages import normalize


def _marching_cubes_like() -> trimesh.Trimesh:
    """Vertices with full float64 mantissas, as the reconstruct stage makes them."""
    mesh = trimesh.creation.icosphere(subdivisions=3, radius=0.7)
    jitter = np.random.default_rng(0).normal(0, 1e-3, mesh.vertices.shape)
    return trimesh.Trimesh(mesh.vertices + jitter, mesh.faces, process=False)


def test_compressed_file_reads_as_the_plain_ply_does(tmp_path):
    mesh = _marching_cubes_like()
    write_mesh(tmp_path / "m.ply", mesh)
    write_mesh(tmp_path / f"m{MESH_SUFFIX}", mesh)
    plain, packed = trimesh.load(tmp_path / "m.ply", process=False, force="mesh"), read_mesh(tmp_path / f"m{MESH_SUFFIX}")
    assert packed.vertices.dtype == plain.vertices.dtype and np.array_equal(packed.vertices, plain.vertices)
    assert np.array_equal(packed.faces, plain.faces)
    # `xz -dk` gives the plain PLY byte for byte, which is what MeshLab or Blender open.
    assert lzma.decompress((tmp_path / f"m{MESH_SUFFIX}").read_bytes()) == (tmp_path / "m.ply").read_bytes()
    assert (tmp_path / f"m{MESH_SUFFIX}").stat().st_size < (tmp_path / "m.ply").stat().st_size / 2


def test_normalize_stage_output_reads_back_exactly(tmp_path, box_file):
    normalize(str(box_file), str(tmp_path / f"n{MESH_SUFFIX}"), str(tmp_path / "n.json"))
    normalize(str(box_file), str(tmp_path / "n.ply"), str(tmp_path / "n2.json"))
    packed, plain = read_mesh(tmp_path / f"n{MESH_SUFFIX}"), read_mesh(tmp_path / "n.ply")
    assert np.array_equal(packed.vertices, plain.vertices) and np.array_equal(packed.faces, plain.faces)
    # An input mesh given as a kept file loads as any mesh does.
    assert np.array_equal(load_mesh(tmp_path / f"n{MESH_SUFFIX}").vertices, plain.vertices)


def test_empty_level_set_round_trips(tmp_path):
    write_mesh(tmp_path / f"e{MESH_SUFFIX}", None)
    empty = read_mesh(tmp_path / f"e{MESH_SUFFIX}")
    assert len(empty.vertices) == 0 and len(empty.faces) == 0


def test_other_suffixes_are_written_in_their_format(tmp_path):
    mesh = trimesh.creation.box()
    write_mesh(tmp_path / "b.obj", mesh)
    assert (tmp_path / "b.obj").read_text().lstrip().startswith(("#", "v "))
    assert len(trimesh.load(tmp_path / "b.obj", process=False, force="mesh").faces) == 12


def _damaged(tmp_path, how: str):
    path = tmp_path / f"{how}{MESH_SUFFIX}"
    write_mesh(path, _marching_cubes_like())
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "corrupt":
        path.write_bytes(data[:100] + bytes(b ^ 0xFF for b in data[100:200]) + data[200:])
    elif how == "not_xz":
        path.write_bytes(b"ply\nformat ascii 1.0\n")
    elif how == "bad_ply":  # a complete xz stream around a cut-off PLY
        path.write_bytes(lzma.compress(lzma.decompress(data)[:300]))
    return path


@pytest.mark.parametrize("how", ["truncated", "corrupt", "not_xz", "bad_ply"])
def test_damaged_file_gives_one_line_naming_it(tmp_path, how):
    path = _damaged(tmp_path, how)
    with pytest.raises(MeshError) as error:
        read_mesh(path)
    message = str(error.value)
    assert message.startswith(f"{path}: ") and "corrupt or truncated" in message and "\n" not in message


def test_missing_file_is_named(tmp_path):
    with pytest.raises(MeshError, match=r"gone\.ply\.xz: file not found"):
        read_mesh(tmp_path / "gone.ply.xz")


def test_command_on_a_truncated_mesh_fails_in_one_line(tmp_path):
    """`implicit3d normalize` given a cut-off kept mesh: exit 1, one line naming the file, no output."""
    path = _damaged(tmp_path, "truncated")
    code = "import sys; from implicit3d.cli import main; sys.exit(main(sys.argv[1:]))"
    done = subprocess.run([sys.executable, "-c", code, "normalize", str(path), "-o", str(tmp_path / "n.ply.xz")], capture_output=True, text=True)
    assert done.returncode == 1 and str(path) in done.stderr and "corrupt or truncated" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not (tmp_path / "n.ply.xz").exists()


def test_kept_mesh_finds_either_format(tmp_path):
    assert kept_mesh(tmp_path, "a") == tmp_path / f"a{MESH_SUFFIX}"
    (tmp_path / "a.ply").write_bytes(b"")
    assert kept_mesh(tmp_path, "a") == tmp_path / "a.ply"  # a run that kept plain PLY
    (tmp_path / f"a{MESH_SUFFIX}").write_bytes(b"")
    assert kept_mesh(tmp_path, "a") == tmp_path / f"a{MESH_SUFFIX}"


def test_normalize_command_puts_the_transform_beside_a_kept_mesh(tmp_path, box_file):
    from implicit3d.cli import main

    assert main(["normalize", str(box_file), "-o", str(tmp_path / f"box{MESH_SUFFIX}")]) == 0
    assert (tmp_path / "box.json").is_file() and len(read_mesh(tmp_path / f"box{MESH_SUFFIX}").faces) == 12
