import pytest
import torch

from implicit3d.models import ARCHITECTURES, HashGridEncoding, build_model, stored_bytes

SMALL = {
    "mlp": {"hidden": 16, "layers": 4, "skip": 2},
    "siren": {"hidden": 16, "layers": 2},
    "fourier": {"hidden": 16, "layers": 2, "features": 8},
    "hashgrid": {"levels": 4, "log2_table": 10, "base_resolution": 4, "max_resolution": 64, "hidden": 16},
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
    enc = HashGridEncoding(levels=4, features=2, log2_table=10, base_resolution=4, max_resolution=64)
    assert enc.resolution.tolist() == [4, 10, 25, 64]
    assert enc.dense.tolist() == [True, False, False, False]  # (N+1)^3 <= 1024 only for N = 4
    corner = torch.randint(0, 65, (100, 4, 8, 3))
    corner = torch.minimum(corner, enc.resolution[None, :, None, None])
    idx = enc._index(corner)
    assert idx.min() >= 0 and idx.max() < enc.table.shape[0]
    for level in range(4):
        lo, hi = enc.offset[level], enc.offset[level] + enc.size[level]
        assert ((idx[:, level] >= lo) & (idx[:, level] < hi)).all()


def test_hashgrid_interpolates_exactly_at_grid_vertices():
    enc = HashGridEncoding(levels=1, features=1, log2_table=12, base_resolution=4, max_resolution=4, init_scale=1.0)
    # Vertex (i, j, k) of the 4^3 grid sits at -1 + 2 * (i, j, k) / 4 and reads table row i + 5 (j + 5 k).
    x = torch.tensor([[-1 + 2 * 1 / 4, -1 + 2 * 2 / 4, -1 + 2 * 3 / 4]])
    assert enc(x).item() == pytest.approx(enc.table[1 + 5 * (2 + 5 * 3), 0].item(), abs=1e-6)


def test_stored_bytes_follows_dtype():
    state = {"a": torch.zeros(10), "b": torch.zeros(4, dtype=torch.float16)}
    assert stored_bytes(state) == 48
