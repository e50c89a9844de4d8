import pytest
import torch

from implicit3d.models import build_model
from implicit3d.quantize import (
    BLOCK,
    MIN_QUANTIZED,
    SCALE_SUFFIX,
    decode_state,
    dequantize_int8,
    encode_state,
    quantize_int8,
    stored_bytes,
)
from implicit3d.training import load_model, save_model

HASH = {"levels": 4, "log2_table": 12, "base_resolution": 4, "max_resolution": 32, "hidden": 16}


def test_int8_error_is_at_most_half_a_step_per_block():
    gen = torch.Generator().manual_seed(0)
    # Blocks with very different ranges: each must get its own scale.
    x = torch.cat([torch.randn(BLOCK, generator=gen) * 1e-3, torch.randn(BLOCK + 100, generator=gen) * 10])
    codes, scale = quantize_int8(x)
    assert codes.dtype == torch.int8 and codes.shape == x.shape and scale.numel() == 3
    back = dequantize_int8(codes, scale)
    step = torch.repeat_interleave(scale, BLOCK)[: x.numel()]
    assert torch.all((back - x).abs() <= step * 0.5001)  # half a step, up to float rounding
    assert (back[:BLOCK] - x[:BLOCK]).abs().max() < 1e-4  # the small block kept its precision


def test_all_zero_block_survives():
    codes, scale = quantize_int8(torch.zeros(10))
    assert torch.equal(dequantize_int8(codes, scale), torch.zeros(10))


def test_int8_keeps_small_tensors_in_float16_and_round_trips():
    state = {"big": torch.randn(2, MIN_QUANTIZED), "small": torch.randn(7), "index": torch.arange(3)}
    stored = encode_state(state, "int8")
    assert stored["big"].dtype == torch.int8 and ("big" + SCALE_SUFFIX) in stored
    assert stored["small"].dtype == torch.float16 and stored["index"].dtype == torch.int64
    assert stored_bytes(stored) == 2 * MIN_QUANTIZED + 4 * stored["big" + SCALE_SUFFIX].numel() + 4 + 2 * 7 + 8 * 3
    decoded = decode_state(stored)
    assert set(decoded) == set(state)
    torch.testing.assert_close(decoded["big"], state["big"], atol=state["big"].abs().max().item() / 127, rtol=0)


def test_unknown_weight_dtype_is_rejected():
    with pytest.raises(ValueError, match="weight_dtype 'int4'"):
        encode_state({"a": torch.zeros(1)}, "int4")


@pytest.mark.parametrize("dtype, bytes_per_table_value", [("float32", 4), ("float16", 2), ("int8", 1)])
def test_saved_hashgrid_size_and_predictions(tmp_path, dtype, bytes_per_table_value):
    torch.manual_seed(0)
    model = build_model("hashgrid", **HASH)
    with torch.no_grad():  # a trained-looking table, not the tiny initial one
        model.table.normal_(0, 0.1)
    n_bytes = save_model(tmp_path / "m.pt", model, "hashgrid", HASH, dtype)
    loaded, info = load_model(tmp_path / "m.pt")
    table = model.table.numel()
    head = sum(p.numel() for n, p in model.named_parameters() if n != "table")
    assert info["model_bytes"] == n_bytes
    assert n_bytes >= table * bytes_per_table_value + head * min(bytes_per_table_value, 2)
    assert n_bytes <= table * bytes_per_table_value + head * 4 + 4 * (table // BLOCK + 3)
    x = torch.rand(200, 3) * 2 - 1
    torch.testing.assert_close(loaded(x), model(x), atol=5e-3, rtol=0)
