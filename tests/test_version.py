"""One version: pyproject.toml, the package, `implicit3d --version` and the changelog agree."""

import re
import tomllib
from pathlib import Path

import pytest

import implicit3d
from implicit3d.cli import main

REPO = Path(__file__).resolve().parents[1]


def test_version_is_the_same_everywhere(capsys):
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert implicit3d.__version__ == version
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out == f"implicit3d {version}\n"
    released = re.findall(r"^## \[(\d+\.\d+\.\d+)\]", (REPO / "CHANGELOG.md").read_text(), re.M)
    assert released and released[0] == version, "CHANGELOG.md: the newest released section is not this version"
