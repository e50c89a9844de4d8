"""Write a trained model in formats that need neither this package nor torch to evaluate
(`implicit3d export`): ONNX, the whole network with the hash-grid encoding, for any runtime; and a
NumPy .npz of the decoded float32 weights, which `implicit3d.portable` evaluates with NumPy alone.

ONNX goes through torch's TorchScript exporter (`dynamo=False`), which needs only the `onnx`
package (the `export` extra); the newer dynamo exporter would also need onnxscript.
"""

from __future__ import annotations

import copy
import importlib.util
import inspect
import io
import json
import os
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn.utils import parametrize

from .errors import Implicit3DError, UsageError
from .io import atomic_path
from .models import _CLASSES, DenseGridSDF, HashGridSDF
from .portable import FORMAT, VERSION

OPSET = 18  # BitwiseXor and BitwiseAnd (the spatial hash) are opset 18
FORMATS = (".onnx", ".npz")


def export_format(path: str | os.PathLike) -> str:
    """'.onnx' or '.npz' from the output's name, else an Implicit3DError."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise UsageError(f"{path}: unknown export format '{suffix or '(no extension)'}' (use .onnx or .npz)")
    return suffix


def full_hparams(arch: str, hparams: dict) -> dict:
    """Every constructor argument of the architecture: the saved ones over the defaults."""
    params = inspect.signature(_CLASSES[arch].__init__).parameters
    defaults = {name: p.default for name, p in params.items() if name != "self" and p.default is not p.empty}
    return {**defaults, **hparams}


class _Exportable(nn.Module):
    """The model's inference forward written with operations that ONNX expresses."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = self.model
        if isinstance(m, HashGridSDF):
            return m(x, portable=True)
        if isinstance(m, DenseGridSDF):  # grid_sample on a 3-D volume needs opset 20: gather the 8 corners instead
            idx, w = m.indices(x)
            return (m.grid.reshape(-1).index_select(0, idx.reshape(-1).long()).view(8, -1) * w).sum(0)
        return m(x)


def export_onnx(model: nn.Module, path: str | os.PathLike, opset: int = OPSET) -> int:
    """Write the model as ONNX: input `points` (N, 3) float32, output `sdf` (N,), N dynamic.
    Returns the file's size in bytes."""
    if importlib.util.find_spec("onnx") is None:  # torch's exporter needs it: say so in one line
        raise Implicit3DError("ONNX export needs the onnx package: pip install 'implicit3d[export]'")
    net = _Exportable(copy.deepcopy(model).float().cpu().eval())
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        # The TorchScript exporter is deprecated, not removed; the tracer warns of the fixed 3 in `f0, f1, f2 = frac`.
        warnings.filterwarnings("ignore", message=".*legacy TorchScript-based ONNX export", category=DeprecationWarning)
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.onnx")
        torch.onnx.export(
            net, (torch.zeros(2, 3),), buffer, dynamo=False, opset_version=opset,
            input_names=["points"], output_names=["sdf"], dynamic_axes={"points": {0: "n"}, "sdf": {0: "n"}},
        )
    data = buffer.getvalue()
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return len(data)


def plain_arrays(model: nn.Module) -> dict[str, np.ndarray]:
    """Every parameter and buffer (derived ones too) as NumPy arrays, floating ones float32, with
    parametrized tensors (weight norm) as the plain values that the forward pass computes from them.
    (Not by removing the parametrizations from a copy: the copy shares the original's class.)"""
    with torch.no_grad():
        tensors = {k: v for k, v in [*model.named_parameters(), *model.named_buffers()] if ".parametrizations." not in f".{k}"}
        for prefix, module in model.named_modules():
            if parametrize.is_parametrized(module):
                tensors.update({f"{prefix}.{name}".lstrip("."): getattr(module, name) for name in module.parametrizations})
        return {k: (v.detach().float() if v.is_floating_point() else v.detach()).cpu().numpy() for k, v in tensors.items()}


def export_npz(model: nn.Module, info: dict, path: str | os.PathLike) -> int:
    """Write the model for `implicit3d.portable`: arch, full hyperparameters and float32 arrays.
    Returns the file's size in bytes."""
    arch = info["arch"]
    hparams = full_hparams(arch, info.get("hparams", {}))
    meta = {"format": FORMAT, "version": VERSION, "arch": arch, "hparams": hparams,
            "weight_dtype": info.get("weight_dtype", "float32")}
    arrays = plain_arrays(model)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:  # a file object: np.savez would add .npz to a name
        np.savez(f, __meta__=np.array(json.dumps(meta, sort_keys=True)), **arrays)
    return Path(path).stat().st_size
