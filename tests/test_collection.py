"""Collections as datasets ship them: layouts, ids, manifests, subsets, and bad input (tests/dataset_trees.py
builds the trees)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import dataset_trees as datasets
import pandas as pd
import pytest

from implicit3d.collection import Selection, load, select
from implicit3d.collection.ids import id_problem, safe_component, strip_shared
from implicit3d.errors import ConfigError
from implicit3d.workflow import load_collection

REPO = Path(__file__).resolve().parents[1]
IGNORE = ["*.md", "*.txt", "*.json", "*.yaml", "*.mtl", "*.png", "*.jpg", ".*"]  # config/config.yaml's


@pytest.mark.parametrize("name", sorted(datasets.BUILDERS))
def test_each_layout_is_recognised_with_the_datasets_ids(tmp_path, name):
    expected = datasets.BUILDERS[name](tmp_path)
    found = load(tmp_path, ignore=IGNORE)
    assert found.layout == name
    assert sorted(found.paths()) == expected
    assert all(Path(p).is_file() for p in found.paths().values())


def test_categories_splits_and_names_come_from_the_dataset(tmp_path):
    datasets.shapenet_v2(tmp_path / "sn")
    shapenet = load(tmp_path / "sn")
    assert {(e.category, e.category_name) for e in shapenet.entries} == {("02691156", "airplane"), ("03001627", "chair")}
    datasets.modelnet(tmp_path / "mn")
    modelnet = load(tmp_path / "mn")
    assert {(e.object, e.category, e.split) for e in modelnet.entries} >= {("chair/train/chair_0001", "chair", "train"),
                                                                           ("bed/test/bed_0002", "bed", "test")}  # fmt: skip
    uids = datasets.objaverse(tmp_path / "ov")
    objaverse = {e.object: e.category for e in load(tmp_path / "ov").entries}
    assert objaverse == {uids[0]: "mug", uids[1]: ""}  # the LVIS annotations label only some objects


def test_a_folder_inside_a_dataset_keeps_the_datasets_ids(tmp_path):
    """A ShapeNet synset, a ModelNet class or Objaverse's glbs folder given alone: the same ids (and so
    the same result paths) as from the dataset's root, and ShapeNet's names from the root's taxonomy."""
    whole = {}
    for name in ("shapenet_v2", "modelnet", "objaverse"):
        datasets.BUILDERS[name](tmp_path / name)
        whole[name] = load(tmp_path / name)
    synset = load(tmp_path / "shapenet_v2" / "03001627")
    assert synset.layout == "shapenet_v2" and synset.paths() == {o: p for o, p in whole["shapenet_v2"].paths().items() if o.startswith("03001627/")}
    assert {e.category_name for e in synset.entries} == {"chair"}
    chair = load(tmp_path / "modelnet" / "chair")
    assert chair.paths() == {o: p for o, p in whole["modelnet"].paths().items() if o.startswith("chair/")}
    assert load(tmp_path / "objaverse" / "glbs").paths() == whole["objaverse"].paths()


def test_a_flat_folder_keeps_todays_ids_and_paths(tmp_path):
    for name in ("b.ply", "a.obj", "10.stl", "2.off", "NA.ply", "notes.md", "scan.XYZ"):
        (tmp_path / name).write_text("x")
    found = load(tmp_path, ignore=IGNORE)
    assert found.layout == "flat"
    assert found.paths() == {s: str(tmp_path / n) for s, n in [("10", "10.stl"), ("2", "2.off"), ("NA", "NA.ply"), ("a", "a.obj"), ("b", "b.ply")]}
    assert {s.path: s.reason for s in found.skipped} == {"notes.md": "matches an `ignore` pattern", "scan.XYZ": "not a mesh file (.XYZ)"}


def test_the_reference_folder_gives_the_same_ids_and_paths(reference_meshes):
    found = load_collection({"meshes": str(reference_meshes), "ignore": IGNORE})
    assert found.layout == "flat"
    assert found.paths() == {str(i): str(reference_meshes / f"{i}.obj") for i in sorted(range(50), key=str)}


def test_a_nested_tree_drops_the_parts_every_object_shares(tmp_path):
    for rel in ("scans/a/mesh/model.ply", "scans/b/mesh/model.ply", "scans/c d/mesh/model.ply"):
        (tmp_path / rel).parent.mkdir(parents=True)
        (tmp_path / rel).write_text("x")
    found = load(tmp_path)
    assert found.layout == "nested" and sorted(found.paths()) == ["a", "b", "c_d"]


def test_two_files_with_one_id_fail_naming_both(tmp_path):
    (tmp_path / "x").mkdir()
    for rel in ("x/chair.obj", "x/chair.OBJ", "y.ply"):
        (tmp_path / rel).write_text("x")
    with pytest.raises(ConfigError, match=r"'.*x/chair.OBJ' and '.*x/chair.obj' would both be object 'x/chair'"):
        load(tmp_path)


def test_one_files_id_comes_from_its_layout(tmp_path):
    from implicit3d.collection.layouts import object_id_of

    ids = datasets.shapenet_v2(tmp_path / "sn") + datasets.modelnet(tmp_path / "mn")
    files = [*(tmp_path / "sn").rglob("model_normalized.obj"), *(tmp_path / "mn").glob("*/*/*.off")]
    assert sorted(object_id_of(f) for f in files) == sorted(ids)
    assert object_id_of(tmp_path / "my scan.ply") == "my_scan"


def test_ids_are_safe_everywhere():
    assert safe_component("my chair (2)") == "my_chair__2_" and safe_component(".hidden") == "_hidden"
    assert id_problem("02691156/1a04e3") is None and id_problem("chair/train/chair_0001") is None
    assert "may hold only" in id_problem("a b") and "may hold only" in id_problem("a//b") and "empty" in id_problem("")
    assert strip_shared([("a", "models", "m"), ("b", "models", "m")]) == [("a",), ("b",)]
    assert strip_shared([("only", "one")]) == [("one",)]


def write_manifest(path: Path, rows: list[dict]) -> Path:
    frame = pd.DataFrame(rows)
    if path.suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_csv(path, sep="\t" if path.suffix == ".tsv" else ",", index=False)
    return path


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet"])
def test_a_manifest_names_objects_categories_and_splits(tmp_path, suffix):
    ids = datasets.modelnet(tmp_path / "ModelNet40")
    rows = [{"path": f"ModelNet40/{i}.off", "object": i.replace("/", "-"), "category": i.split("/")[0], "split": i.split("/")[1]} for i in ids]
    found = load(write_manifest(tmp_path / f"list{suffix}", rows))
    assert found.layout == "manifest"
    assert [(e.object, e.category, e.split) for e in found.entries] == [(r["object"], r["category"], r["split"]) for r in rows]
    assert all(Path(p).is_file() for p in found.paths().values())
    # Without an `object` column, ids come from the paths as for a nested folder.
    assert sorted(load(write_manifest(tmp_path / "paths.csv", [{"path": r["path"]} for r in rows])).paths()) == ids


@pytest.mark.parametrize(
    "rows, message",
    [
        ([{"path": "a.ply"}, {"path": "gone.ply"}], r"paths.csv line 3: 'gone.ply' does not exist"),
        ([{"path": "a.ply", "label": "x"}], r"unknown column 'label'"),
        ([{"object": "a"}], r"no `path` column"),
        ([{"path": "a.ply", "object": "x"}, {"path": "b.ply", "object": "x"}], r"line 2 and line 3 would both be object 'x'"),
        ([{"path": "a.ply", "object": "a b"}], r"line 2: object id 'a b' may hold only"),
        ([{"path": "notes.txt"}], r"line 2: 'notes.txt' is not a mesh file"),
    ],
)
def test_bad_manifests_fail_with_one_line_naming_the_row(tmp_path, rows, message):
    for name in ("a.ply", "b.ply", "notes.txt"):
        (tmp_path / name).write_text("x")
    with pytest.raises(ConfigError, match=message) as error:
        load(write_manifest(tmp_path / "paths.csv", rows))
    assert "\n" not in str(error.value)


def test_select_by_category_id_or_name_and_by_id_patterns(tmp_path):
    datasets.shapenet_v2(tmp_path, per_category=3)
    found = load(tmp_path)
    chairs = select(found, Selection(categories=("Chair",)))
    assert {e.category for e in chairs.entries} == {"03001627"} and len(chairs.entries) == 3
    assert select(found, Selection(categories=("02691156",))).categories() == {"02691156": 3}
    some = select(found, Selection(include=("0*",), exclude=("*a1f*",)))
    assert sorted(some.paths()) == [o for o in sorted(found.paths()) if o.startswith("0") and "a1f" not in o]
    with pytest.raises(ConfigError, match=r"select: categories=\('lamp',\) matches none of the 6 objects .*airplane, chair"):
        select(found, Selection(categories=("lamp",)))


def test_a_limited_subset_is_stable_and_only_grows(tmp_path):
    datasets.shapenet_v2(tmp_path, per_category=12)
    found = load(tmp_path)
    first = select(found, Selection(limit=5, seed=3)).paths()
    assert select(load(tmp_path), Selection(limit=5, seed=3)).paths() == first  # the same on every run
    assert set(first) <= set(select(found, Selection(limit=9, seed=3)).paths())  # a larger limit only adds
    assert set(select(found, Selection(limit=5, seed=4)).paths()) != set(first)  # the seed picks another subset
    per = select(found, Selection(limit_per_category=2, seed=3))
    assert per.categories() == {"02691156": 2, "03001627": 2}
    # The collection grows by a category: a subset of the first category stays what it was.
    chairs = select(found, Selection(categories=("chair",), limit=4)).paths()
    datasets.shapenet_v1(tmp_path / "more")  # other files in the tree: skipped by the shapenet_v2 layout
    (tmp_path / "04379243" / "table1" / "models").mkdir(parents=True)
    datasets.solid(0).export(tmp_path / "04379243" / "table1" / "models" / "model_normalized.obj")
    grown = load(tmp_path)
    assert "04379243/table1" in grown.paths() and select(grown, Selection(categories=("chair",), limit=4)).paths() == chairs


def test_links_a_loop_fails_and_a_broken_link_is_skipped(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    datasets.solid(0).export(tmp_path / "a" / "b" / "x.ply")
    (tmp_path / "gone.ply").symlink_to(tmp_path / "nowhere.ply")
    assert {s.path: s.reason for s in load(tmp_path).skipped} == {"gone.ply": "broken link"}
    (tmp_path / "a" / "b" / "up").symlink_to(tmp_path / "a")
    with pytest.raises(ConfigError, match=r"'.*a/b/up' is a symbolic link to '.*a', a folder it lies in \(a loop\)"):
        load(tmp_path)


def test_missing_or_odd_sources_fail_with_one_line(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load(tmp_path / "nope")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ConfigError, match="no mesh files in"):
        load(tmp_path)
    with pytest.raises(ConfigError, match="neither a folder nor a manifest"):
        load(tmp_path / "notes.txt")
    with pytest.raises(ConfigError, match="layout: 'shapenet' is not one of auto"):
        load(tmp_path, layout="shapenet")
    datasets.thingi10k(tmp_path / "t")
    with pytest.raises(ConfigError, match="no file in .* is laid out as modelnet"):
        load(tmp_path / "t", layout="modelnet")


def test_an_unreadable_mesh_fails_its_object_with_one_line(tmp_path):
    """In a process that file permissions apply to: root reads anything, so as root the process runs
    without the capabilities that bypass them (util-linux's setpriv)."""
    datasets.solid(0).export(tmp_path / "locked.ply")
    (tmp_path / "locked.ply").chmod(0)
    code = "import sys; from implicit3d.mesh import load_mesh\ntry:\n load_mesh(sys.argv[1])\nexcept Exception as e:\n print(e)"
    command = [sys.executable, "-c", code, str(tmp_path / "locked.ply")]
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: permissions cannot apply")
        drop = "-dac_override,-dac_read_search"
        command = ["setpriv", f"--bounding-set={drop}", f"--inh-caps={drop}", *command]
    out = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == f"{tmp_path / 'locked.ply'}: not readable (permission denied)", out.stderr


def test_the_collection_command_reports_and_freezes_a_subset(tmp_path, capsys, monkeypatch):
    from implicit3d.cli import main

    datasets.modelnet(tmp_path / "ModelNet40", per_split=2)
    monkeypatch.chdir(REPO)  # the config it reads: config/config.yaml
    assert main(["collection", str(tmp_path / "ModelNet40"), "--category", "chair", "--limit", "3", "--manifest", str(tmp_path / "out" / "chairs.csv")]) == 0
    text = capsys.readouterr().out
    assert "layout modelnet, 3 objects (select: categories=('chair',), limit=3, seed=0)" in text
    assert "  chair" in text and "splits: " in text and "README.txt: matches an `ignore` pattern" in text
    frozen = load(tmp_path / "out" / "chairs.csv")
    chosen = select(load(tmp_path / "ModelNet40"), Selection(categories=("chair",), limit=3))
    assert [(e.object, e.category, e.split, os.path.realpath(e.path)) for e in frozen.entries] == [
        (e.object, e.category, e.split, os.path.realpath(e.path)) for e in chosen.entries
    ]
    assert main(["collection", str(tmp_path / "ModelNet40"), "--category", "lamp"]) == 2  # a usage error
    assert "implicit3d collection: error: select: categories=('lamp',) matches none" in capsys.readouterr().err
