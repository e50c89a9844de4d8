"""The compiled CPU kernels of the hash-grid encoding against the tensor path they replace on a CPU."""

import pytest
import torch

from implicit3d import hashgrid_kernel
from implicit3d.models import HashGridSDF, _GridInterp

LAYOUTS = {
    "dense and hashed": {"levels": 4, "log2_table": 10, "base_resolution": 4, "max_resolution": 64},
    "per-level rows": {"levels": 8, "log2_table": [13] * 6 + [14] * 2, "base_resolution": 16, "max_resolution": 128},
    "hashed only": {"levels": 3, "log2_table": 6, "base_resolution": 8, "max_resolution": 32},
}


def tensor_path(model: HashGridSDF, x: torch.Tensor) -> torch.Tensor:
    idx, w = model.indices(x)
    return _GridInterp.apply(model.table, idx, w).permute(1, 0, 2).reshape(x.shape[0], -1)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_kernel_features_and_table_gradient_match_the_tensor_path(layout):
    torch.manual_seed(0)
    model = HashGridSDF(features=2, init_scale=1.0, **LAYOUTS[layout])
    x = torch.rand(3000, 3) * 2.4 - 1.2  # also outside the cube, where the corners are clamped
    x[:3] = torch.tensor([[-1.0, -1.0, -1.0], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])  # the grid's corners and a vertex
    assert hashgrid_kernel.usable(model.table, x)
    grad_out = torch.randn(3000, model.levels * 2)

    kernel = hashgrid_kernel.HashGridEncode.apply(model.table, x, model.kernel_layout)
    kernel.backward(grad_out)
    kernel_grad, model.table.grad = model.table.grad, None
    reference = tensor_path(model, x)
    reference.backward(grad_out)

    torch.testing.assert_close(kernel, reference, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(kernel_grad, model.table.grad, atol=1e-5, rtol=1e-5)


def test_model_uses_the_kernel_on_the_cpu_and_the_tensor_path_otherwise(monkeypatch):
    torch.manual_seed(0)
    model = HashGridSDF(features=2, init_scale=1.0, **LAYOUTS["dense and hashed"])
    x = torch.rand(500, 3) * 2 - 1
    calls = []
    real = hashgrid_kernel.HashGridEncode.apply
    monkeypatch.setattr(hashgrid_kernel.HashGridEncode, "apply", lambda *a: calls.append(1) or real(*a))
    on_cpu = model(x)
    assert calls == [1]
    monkeypatch.setattr(hashgrid_kernel, "usable", lambda table, x: False)  # as on CUDA
    elsewhere = model(x)
    assert calls == [1]
    torch.testing.assert_close(on_cpu, elsewhere, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(on_cpu, model(x, portable=True), atol=1e-6, rtol=1e-5)


def test_kernel_takes_float32_cpu_tensors_only():
    table = torch.zeros(2, 10)
    assert hashgrid_kernel.usable(table, torch.zeros(4, 3))
    assert not hashgrid_kernel.usable(table, torch.zeros(4, 3, dtype=torch.float64))
    assert not hashgrid_kernel.usable(table.double(), torch.zeros(4, 3))


def test_kernel_reads_strided_points_and_gives_them_no_gradient():
    torch.manual_seed(0)
    model = HashGridSDF(features=2, init_scale=1.0, **LAYOUTS["hashed only"])
    wide = torch.rand(200, 6) * 2 - 1
    x = wide[:, ::2]  # not contiguous
    x.requires_grad_(True)
    feats = hashgrid_kernel.HashGridEncode.apply(model.table, x, model.kernel_layout)
    torch.testing.assert_close(feats, tensor_path(model, x.detach().contiguous()), atol=1e-6, rtol=1e-5)
    feats.sum().backward()
    assert x.grad is None and model.table.grad is not None


def test_eikonal_loss_trains_through_the_kernel():
    # The eikonal term differentiates the prediction with respect to x with create_graph=True,
    # which sends the kernel's backward a gradient that itself requires a gradient.
    torch.manual_seed(0)
    model = HashGridSDF(features=2, hidden=16, **LAYOUTS["dense and hashed"])
    x = (torch.rand(256, 3) * 2 - 1).requires_grad_(True)
    pred = model(x)
    (grad_x,) = torch.autograd.grad(pred.sum(), x, create_graph=True)
    loss = pred.abs().mean() + (grad_x.norm(dim=-1) - 1).pow(2).mean()
    loss.backward()
    assert model.table.grad is not None and model.table.grad.abs().sum() > 0


def test_frozen_table_gets_no_gradient_and_x_still_does_through_the_head():
    torch.manual_seed(0)
    model = HashGridSDF(features=2, hidden=16, **LAYOUTS["dense and hashed"])
    model.table.requires_grad_(False)
    x = (torch.rand(64, 3) * 2 - 1).requires_grad_(True)
    model(x).sum().backward()
    assert model.table.grad is None and x.grad is not None and model.mlp[0].weight.grad is not None
