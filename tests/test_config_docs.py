"""The configuration reference: schema descriptions and defaults, config/README.md, `implicit3d config`."""

import copy
import dataclasses
import html
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from implicit3d.cli import main
from implicit3d.config import MISSING, fill_defaults, load_schema, merge
from implicit3d.config.reference import markdown, rows
from implicit3d.workflow import model_tag, sample_tag

REPO = Path(__file__).resolve().parents[1]
SCHEMA = load_schema(REPO / "config" / "schema.yaml")
CONFIG = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
DEFAULT_STEPS = CONFIG["architectures"]["hashgrid"]["training"]["steps"]
REGENERATE = "implicit3d config --markdown > config/README.md"


def test_every_key_has_a_description_and_a_default():
    documented = rows(SCHEMA)
    assert len(documented) > 50
    assert [r["path"] for r in documented if not r["schema"].get("description")] == []
    # `arch` is the one required key without a default: each architecture must name its network.
    assert [r["path"] for r in documented if r["default"] is MISSING] == ["architectures.<name>.arch"]
    # Every `properties` entry anywhere (definitions included) carries a description.
    def walk(node):
        if isinstance(node, dict):
            for key, sub in (node.get("properties") or {}).items():
                assert sub.get("description"), key
            for sub in node.values():
                walk(sub)

    walk(SCHEMA)


def test_defaults_are_the_shipped_config():
    assert fill_defaults({}, SCHEMA) == CONFIG


def test_training_defaults_are_the_codes():
    from implicit3d.training import TrainConfig

    schema = SCHEMA["definitions"]["training"]["properties"]
    code = {f.name: f.default for f in dataclasses.fields(TrainConfig) if f.name != "extra"}
    assert {key: sub["default"] for key, sub in schema.items()} == code
    from implicit3d.quantize import WEIGHT_DTYPES
    from implicit3d.training import LOSSES

    assert tuple(schema["weight_dtype"]["enum"]) == WEIGHT_DTYPES and tuple(schema["loss"]["enum"]) == LOSSES


def test_filling_defaults_keeps_the_tags_and_leaves_architectures_as_written():
    for extra in ("benchmark.yaml", "../tests/data/tiny.yaml"):
        config = yaml.safe_load((REPO / "config" / extra).read_text())
        merged = merge(copy.deepcopy(CONFIG), config)  # as Snakemake merges --configfile
        filled = fill_defaults(yaml.safe_load(yaml.safe_dump(merged)), SCHEMA)
        assert filled["architectures"] == merged["architectures"]
        assert sample_tag(filled) == sample_tag(merged)
        assert all(model_tag(filled, m) == model_tag(merged, m) for m in merged["architectures"])
    partial = fill_defaults({"resources": {"train": {"mem_mb": 8000}}, "sampling": {"seed": 3}}, SCHEMA)
    assert partial["resources"]["train"] == {"mem_mb": 8000, "runtime": 60}
    assert partial["sampling"]["seed"] == 3 and partial["sampling"]["val"] == CONFIG["sampling"]["val"]


def test_config_readme_is_up_to_date():
    current = (REPO / "config" / "README.md").read_text()
    assert current == markdown(SCHEMA), f"config/README.md is stale: regenerate it with `{REGENERATE}`"
    assert REGENERATE in current


def test_docs_site_shows_the_generated_reference(tmp_path):
    # docs/configuration.md includes config/README.md as it is; the built page lists every key.
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(tmp_path)],
                          cwd=REPO, capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})  # fmt: skip
    assert done.returncode == 0, done.stderr
    page = html.unescape((tmp_path / "configuration" / "index.html").read_text())
    keys = [r["path"] for r in rows(SCHEMA) if "properties" not in r["schema"]]  # the table rows; sections are headings
    assert len(keys) > 50 and [key for key in keys if f"<code>{key}</code>" not in page] == []


def test_markdown_command_prints_the_reference(capsys):
    assert main(["config", "--markdown"]) == 0
    assert capsys.readouterr().out == markdown(SCHEMA)


def _lines(out: str) -> dict:
    return dict(line.split(": ", 1) for line in out.splitlines() if not line.startswith("#"))


def test_config_command_lists_values(capsys):
    assert main(["config"]) == 0
    lines = _lines(capsys.readouterr().out)
    assert lines["meshes"] == "data/sample_meshes"
    assert lines["sampling.train.near_std"] == "[0.003, 0.007, 0.012]"
    assert lines["architectures.hashgrid.training.steps"] == str(DEFAULT_STEPS)
    assert lines["resources.train.runtime"] == "60"
    assert lines["architectures.mlp.training.near_fraction"] == "0.0  # unset"
    assert not any("# default:" in value for value in lines.values())  # config.yaml is the defaults


def test_config_command_applies_configfiles_and_sets(capsys, tmp_path):
    extra = tmp_path / "more.yaml"
    extra.write_text("device: cpu\nsampling: {seed: 7}\n")
    args = ["config", "--configfile", str(REPO / "tests" / "data" / "tiny.yaml"), str(extra), "--set", "sampling.seed=9"]
    assert main(args) == 0
    out = capsys.readouterr().out
    lines = _lines(out)
    assert lines["architectures.hashgrid.training.steps"] == f"150  # default: {DEFAULT_STEPS}"
    assert lines["device"] == "cpu  # default: auto"
    assert lines["sampling.seed"] == "9  # default: 0"  # --set comes last
    assert lines["sampling.sign"] == "filled"  # tiny.yaml merges into sampling, like snakemake
    assert out.splitlines()[0].endswith("tiny.yaml < " + str(extra) + " < --set sampling.seed=9")


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "missing.yaml: file not found"),
        ("sampling: [1,\n", "bad.yaml: invalid YAML at line 2"),
        ("- 1\n", "bad.yaml: expected a mapping of config keys, got a list"),
        ("sampling: {sead: 3}\n", "bad.yaml: config key 'sampling': Additional properties are not allowed ('sead' was unexpected)"),
        ("reconstruct: {resolution: 4}\n", "bad.yaml: config key 'reconstruct.resolution': 4 is less than the minimum of 8"),
    ],
)
def test_config_command_errors_name_the_file(capsys, tmp_path, content, message):
    path = tmp_path / ("missing.yaml" if content is None else "bad.yaml")
    if content is not None:
        path.write_text(content)
    assert main(["config", "--configfile", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"implicit3d config: error: {tmp_path / message}") and err.count("\n") == 1


def test_config_command_bad_set(capsys):
    assert main(["config", "--set", "device=gpu"]) == 2
    assert capsys.readouterr().err == (
        "implicit3d config: error: --set device=gpu: config key 'device': 'gpu' is not one of ['auto', 'cpu', 'cuda']\n"
    )
    assert main(["config", "--set", "device"]) == 2
    assert "expected KEY.PATH=VALUE" in capsys.readouterr().err
