"""Outputs appear whole or not at all, even when the writer is killed, and with normal permissions."""

import os
import subprocess
import sys

import torch

from implicit3d.io import atomic_path
from implicit3d.training import save_model

KILLED_MID_WRITE = """
import os, signal, sys
from implicit3d.io import atomic_path
with atomic_path(sys.argv[1]) as tmp:
    tmp.write_text("half of it")
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_killed_writer_leaves_no_output(tmp_path):
    target = tmp_path / "model.json"
    done = subprocess.run([sys.executable, "-c", KILLED_MID_WRITE, str(target)])
    assert done.returncode == -9
    assert not target.exists()  # only a hidden temporary file is left behind
    assert [p.name.startswith(".model.json.") for p in tmp_path.iterdir()] == [True]


def test_outputs_get_the_usual_permissions_not_mkstemps_private_ones(tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    with atomic_path(tmp_path / "a.txt") as tmp:
        tmp.write_text("x")
    save_model(tmp_path / "m.pt", torch.nn.Linear(3, 1), "mlp", {}, "float32")
    for name in ("a.txt", "m.pt"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o666 & ~umask
