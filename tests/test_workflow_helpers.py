import copy
from pathlib import Path

import pytest
import yaml

from implicit3d.config import model_spec, validate_config
from implicit3d.errors import ConfigError
from implicit3d.workflow import config_tag, discover_meshes, model_tag, sample_tag

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "config" / "schema.yaml"


@pytest.fixture
def config():
    return yaml.safe_load((REPO / "config" / "config.yaml").read_text())


def test_default_config_is_valid(config):
    validate_config(config, SCHEMA)


@pytest.mark.parametrize(
    "edit, key",
    [
        (lambda c: c["sampling"]["test"].__setitem__("near_std", -0.01), "sampling.test.near_std"),
        (lambda c: c["architectures"]["hashgrid"].__setitem__("arch", "nerf"), "architectures.hashgrid.arch"),
        (lambda c: c["sampling"].__setitem__("seeed", 1), "sampling"),
        (lambda c: c.__setitem__("device", "gpu"), "device"),
    ],
)
def test_bad_values_name_the_key(config, edit, key):
    edit(config)
    with pytest.raises(ConfigError, match=f"config key '{key}'"):
        validate_config(config, SCHEMA)


def test_unknown_model_name(config):
    config["models"] = ["hashgrid", "nerf"]
    with pytest.raises(ConfigError, match="'nerf' is not defined under architectures"):
        validate_config(config, SCHEMA)


def test_renamed_architecture_keeps_working_with_a_notice(config, capsys):
    shipped = copy.deepcopy(config)
    # A user's config of before the rename: the old name in `models`, a changed value and an override.
    config["models"] = ["hashgrid", "hashgrid_previous"]
    config["architectures"]["hashgrid_previous"] = {"training": {"steps": 600}}
    config["overrides"] = {"7": {"hashgrid_previous": {"params": {"levels": 10}}}}
    validate_config(config, SCHEMA)
    notice = capsys.readouterr().err
    assert notice == "config: architecture 'hashgrid_previous' is now named 'hashgrid_12l_int8'; the old name still works\n"
    assert config["models"] == ["hashgrid", "hashgrid_12l_int8"] and "hashgrid_previous" not in config["architectures"]
    spec = model_spec(config, "hashgrid_12l_int8", "7")
    expected = copy.deepcopy(shipped["architectures"]["hashgrid_12l_int8"])
    expected["training"]["steps"] = 600
    expected["params"]["levels"] = 10
    assert spec == expected
    # The shipped config needs no renaming and says nothing; the new name's outputs keep their tag.
    validate_config(shipped, SCHEMA)
    assert capsys.readouterr().err == ""
    renamed = copy.deepcopy(shipped)
    renamed["architectures"]["hashgrid_previous"] = renamed["architectures"].pop("hashgrid_12l_int8")
    assert model_tag(renamed, "hashgrid_previous") == model_tag(shipped, "hashgrid_12l_int8")


def test_discover_meshes_ignores_docs_and_rejects_clashes(tmp_path):
    (tmp_path / "a.obj").write_text("")
    (tmp_path / "README.md").write_text("")
    (tmp_path / "b.xyz").write_text("")
    assert discover_meshes(str(tmp_path), ["*.md"]) == {"a": str(tmp_path / "a.obj")}  # b.xyz is no mesh file
    (tmp_path / "a.ply").write_text("")
    with pytest.raises(ConfigError, match="both be object 'a'"):
        discover_meshes(str(tmp_path), ["*.md"])
    with pytest.raises(ConfigError, match="does not exist"):
        discover_meshes(str(tmp_path / "nope"))


def test_tags_change_only_with_their_own_inputs(config):
    other = copy.deepcopy(config)
    other["architectures"]["siren"]["training"]["lr"] = 0.5
    assert sample_tag(other) == sample_tag(config)
    assert model_tag(other, "hashgrid") == model_tag(config, "hashgrid")
    assert model_tag(other, "siren") != model_tag(config, "siren")
    other["sampling"]["seed"] = 7
    assert sample_tag(other) != sample_tag(config)
    assert model_tag(other, "hashgrid") != model_tag(config, "hashgrid")
    assert config_tag({"a": 1, "b": 2}) == config_tag({"b": 2, "a": 1})


def test_per_object_override_merges(config):
    config["overrides"] = {"cow": {"hashgrid": {"training": {"steps": 7}}}}
    assert model_spec(config, "hashgrid", "cow")["training"]["steps"] == 7
    assert model_spec(config, "hashgrid", "cow")["training"]["lr"] == config["architectures"]["hashgrid"]["training"]["lr"]
    assert model_spec(config, "hashgrid", "bear")["training"]["steps"] != 7
