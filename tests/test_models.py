import pytest
import torch

from implicit3d.models import ARCHITECTURES, HashGridSDF, build_model
from implicit3d.quantize import stored_bytes

SMALL = {
    "mlp": {"hidden": 16, "layers": 4, "skip": 2},
    "siren": {"hidden": 16, "layers": 2},
    "fourier": {"hidden": 16, "layers": 2, "features": 8},
    "hashgrid": {"levels": 4, "log2_table": 10, "base_resolution": 4, "max_resolution": 64, "hidden": 16},
    "grid": {"resolution": 8},
}


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_forward_shape_and_gradients(arch):
    model = build_model(arch, **SMALL[arch])
    x = torch.rand(37, 3) * 2 - 1
    y = model(x)
    assert y.shape == (37,)
    y.sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters() if p.requires_grad)


def test_unknown_architecture():
    with pytest.raises(ValueError, match="unknown architecture 'nerf'"):
        build_model("nerf")


def test_hashgrid_levels_dense_then_hashed_and_indices_in_range():
    model = HashGridSDF(levels=4, features=2, log2_table=10, base_resolution=4, max_resolution=64)
    assert model.resolution.tolist() == [4, 10, 25, 64]
    assert model.n_dense == 1  # (N+1)^3 <= 1024 only for N = 4
    assert model.table.shape == (2, 5**3 + 3 * 1024)
    idx, w = model.indices(torch.rand(500, 3) * 2.2 - 1.1)  # also outside the cube: clamped
    assert idx.shape == w.shape == (4, 8, 500)
    for level in range(4):
        lo, hi = int(model.offset[level]), int(model.offset[level]) + (125 if level == 0 else 1024)
        assert ((idx[level] >= lo) & (idx[level] < hi)).all()
    torch.testing.assert_close(w.sum(1), torch.ones(4, 500))


def test_hashgrid_interpolates_exactly_at_dense_grid_vertices():
    model = HashGridSDF(levels=1, features=1, log2_table=12, base_resolution=4, max_resolution=4, init_scale=1.0)
    # Vertex (i, j, k) of the 4^3 grid sits at -1 + 2 * (i, j, k) / 4 and reads table row i + 5 (j + 5 k).
    x = torch.tensor([[-1 + 2 * 1 / 4, -1 + 2 * 2 / 4, -1 + 2 * 3 / 4]])
    assert model.encode(x)[0, 0].item() == pytest.approx(model.table[0, 1 + 5 * (2 + 5 * 3)].item(), abs=1e-6)


def test_hashgrid_custom_backward_matches_autograd_of_a_plain_gather():
    model = HashGridSDF(levels=3, features=2, log2_table=8, base_resolution=2, max_resolution=16, init_scale=1.0)
    x = torch.rand(64, 3) * 2 - 1
    grad_out = torch.randn(64, 3 * 2)
    model.encode(x)[:, :6].backward(grad_out)
    idx, w = model.indices(x)
    table = model.table.detach().clone().requires_grad_(True)
    plain = (table[:, idx.long()] * w).sum(2)  # (F, L, B)
    plain.permute(2, 1, 0).reshape(64, -1).backward(grad_out)
    torch.testing.assert_close(model.table.grad, table.grad)


def test_stored_bytes_follows_dtype():
    state = {"a": torch.zeros(10), "b": torch.zeros(4, dtype=torch.float16)}
    assert stored_bytes(state) == 48


def test_hash_grid_tables_can_differ_per_level():
    model = HashGridSDF(levels=4, features=2, log2_table=[9, 10, 11, 12], base_resolution=4, max_resolution=64)
    assert model.n_dense == 1  # 5^3 vertices fit 2^9 rows; the next levels are hashed
    assert model.table.shape == (2, 5**3 + 2**10 + 2**11 + 2**12)
    idx, _ = model.indices(torch.rand(4096, 3) * 2 - 1)
    starts = model.offset.long()
    for level, rows in enumerate((5**3, 2**10, 2**11, 2**12)):
        local = idx[level].long() - starts[level]
        assert local.min() >= 0 and local.max() < rows and local.unique().numel() > rows // 2  # its own rows, and most of them
    with pytest.raises(ValueError, match="log2_table lists 3 values for 4 levels"):
        HashGridSDF(levels=4, log2_table=[9, 10, 11])
