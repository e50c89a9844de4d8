"""Config mistakes fail at planning time with one line naming the key."""

import inspect
from pathlib import Path

import pytest
import yaml

from implicit3d import models
from implicit3d.config import arch_params, validate_config
from implicit3d.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "config" / "schema.yaml"


@pytest.fixture
def config():
    return yaml.safe_load((REPO / "config" / "config.yaml").read_text())


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda c: c["architectures"]["siren"]["params"].update(hiden=64),
         "config key 'architectures.siren.params': unknown parameter 'hiden' for siren (allowed: hidden, layers, w0)"),
        (lambda c: c.__setitem__("overrides", {"cow": {"hashgrid": {"params": {"level": 4}}}}),
         "config key 'overrides.cow.hashgrid.params': unknown parameter 'level' for hashgrid"),
        (lambda c: c.__setitem__("overrides", {"cow": {"hashgird": {"training": {"steps": 5}}}}),
         "config key 'overrides.cow.hashgird': 'hashgird' is not defined under architectures"),
        (lambda c: c["normalize"].__setitem__("decimate", "often"), "config key 'normalize.decimate': 'often' is not of type 'boolean'"),
        (lambda c: c["select"].__setitem__("limit", "1.5"), "config key 'select.limit': '1.5' is not of type 'integer'"),
        (lambda c: c["normalize"].__setitem__("max_face", 10), "config key 'normalize': Additional properties are not allowed"),
        (lambda c: c["sampling"]["train"].__setitem__("near_std", [0.01, -0.1]), "config key 'sampling.train.near_std.1': -0.1 is less than or equal to the minimum of 0"),
    ],
)
def test_mistakes_name_the_key(config, edit, message):
    edit(config)
    with pytest.raises(ConfigError) as info:
        validate_config(config, SCHEMA)
    assert str(info.value).startswith(message) and "\n" not in str(info.value)


def test_nested_command_line_values_take_the_schema_type(config):
    """As Snakemake hands them over from `--config 'select={limit: 6}'`: every nested value a string."""
    config["select"].update(limit="6", seed="3")
    config["normalize"]["decimate"] = "true"
    config["shards"] = {"size": "50"}
    config["overrides"] = {"16": {"hashgrid": {"training": {"lr": "0.005", "steps": "1000"}}}}
    config["meshes"] = "2024"  # the schema wants a string here: a folder named 2024 stays one
    validate_config(config, SCHEMA)
    assert (config["select"]["limit"], config["select"]["seed"], config["normalize"]["decimate"]) == (6, 3, True)
    assert config["shards"]["size"] == 50 and config["overrides"]["16"]["hashgrid"]["training"]["lr"] == 0.005
    assert config["meshes"] == "2024"


def test_valid_params_and_overrides_pass(config):
    config["overrides"] = {"cow": {"hashgrid": {"params": {"levels": 4}, "training": {"steps": 5}}}}
    config["normalize"]["decimate"] = True
    validate_config(config, SCHEMA)


@pytest.mark.parametrize("arch", sorted(models._CLASSES))
def test_known_params_match_the_model_classes(arch):
    names = [p for p in inspect.signature(models._CLASSES[arch].__init__).parameters if p != "self"]
    assert sorted(arch_params()[arch]) == sorted(names)
