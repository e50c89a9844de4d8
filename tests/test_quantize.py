import pytest
import torch

from implicit3d.models import build_model
from implicit3d.quantize import (
    BLOCK,
    MIN_QUANTIZED,
    SCALE_SUFFIX,
    compress_codes,
    decode_state,
    decompress_codes,
    dequantize,
    encode_state,
    fake_quantize,
    pack_codes,
    quantize,
    remove_fake_quantize,
    stored_bytes,
    unpack_codes,
)
from implicit3d.training import load_model, save_model

HASH = {"levels": 4, "log2_table": 12, "base_resolution": 4, "max_resolution": 32, "hidden": 16}


def test_int8_error_is_at_most_half_a_step_per_block():
    gen = torch.Generator().manual_seed(0)
    # Blocks with very different ranges: each must get its own scale.
    x = torch.cat([torch.randn(BLOCK, generator=gen) * 1e-3, torch.randn(BLOCK + 100, generator=gen) * 10])
    codes, scale = quantize(x, 8)
    assert codes.dtype == torch.int8 and codes.shape == x.shape and scale.numel() == 3
    back = dequantize(codes, scale)
    step = torch.repeat_interleave(scale, BLOCK)[: x.numel()]
    assert torch.all((back - x).abs() <= step * 0.5001)  # half a step, up to float rounding
    assert (back[:BLOCK] - x[:BLOCK]).abs().max() < 1e-4  # the small block kept its precision


def test_all_zero_block_survives():
    codes, scale = quantize(torch.zeros(10), 8)
    assert torch.equal(dequantize(codes, scale), torch.zeros(10))


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
    with pytest.raises(ValueError, match="weight_dtype 'int3'"):
        encode_state({"a": torch.zeros(1)}, "int3")


@pytest.mark.parametrize("dtype, bytes_per_table_value", [("float32", 4), ("float16", 2), ("int8", 1), ("int6", 0.75), ("int5", 0.625), ("int4", 0.5)])
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


@pytest.mark.parametrize("bits", [4, 5, 6, 8])
def test_packed_codes_round_trip_in_bits_per_value(bits):
    qmax = 2 ** (bits - 1) - 1
    codes = torch.randint(-qmax, qmax + 1, (1001,), dtype=torch.int8, generator=torch.Generator().manual_seed(bits))
    packed = pack_codes(codes, bits)
    assert packed.dtype == torch.uint8 and packed.numel() == -(-1001 * bits // 8)
    assert torch.equal(unpack_codes(packed, bits, 1001), codes)


@pytest.mark.parametrize("bits", [4, 6])
def test_low_bit_storage_round_trips_to_the_quantized_values(bits):
    state = {"big": torch.randn(2, MIN_QUANTIZED)}
    stored = encode_state(state, f"int{bits}")
    assert stored["big"].dtype == torch.uint8 and stored["big"].numel() == 2 * MIN_QUANTIZED * bits // 8
    codes, scale = quantize(state["big"], bits)
    assert torch.equal(decode_state(stored)["big"], dequantize(codes, scale))


def test_fake_quantize_trains_on_the_stored_values_with_straight_through_gradients(tmp_path):
    torch.manual_seed(0)
    model = build_model("hashgrid", **HASH)
    with torch.no_grad():
        model.table.normal_(0, 0.1)
    done = fake_quantize(model, "int4")
    assert [name for _, name in done] == ["table"]
    x = torch.rand(256, 3) * 2 - 1
    seen = model(x)
    seen.sum().backward()
    original = model.parametrizations.table.original
    assert original.grad is not None and original.grad.abs().sum() > 0  # through the rounding
    remove_fake_quantize(done)
    assert not hasattr(model, "parametrizations") and isinstance(model.table, torch.nn.Parameter)
    save_model(tmp_path / "m.pt", model, "hashgrid", HASH, "int4")
    loaded, _ = load_model(tmp_path / "m.pt")
    # What training saw is what is stored, up to the fp16 head.
    torch.testing.assert_close(loaded(x), seen.detach(), atol=2e-3, rtol=0)
    assert fake_quantize(model, "float16") == []


@pytest.mark.parametrize("dtype", ["int8", "int5"])
def test_lzma_coding_stores_the_same_values_in_fewer_bytes(dtype):
    # Heavy-tailed values, as a trained table's are (about 6 bits of entropy per int8 code).
    torch.manual_seed(0)
    state = {"big": torch.distributions.Laplace(0.0, 0.05).sample((2, MIN_QUANTIZED)), "small": torch.randn(7)}
    plain, coded = encode_state(state, dtype), encode_state(state, dtype, "lzma")
    assert coded["big"].dtype == torch.uint8 and coded["small"].dtype == torch.float16
    assert stored_bytes(coded) < 0.85 * stored_bytes(plain)
    for key, value in decode_state(plain).items():
        assert torch.equal(decode_state(coded)[key], value)  # lossless: the same values as without coding


def test_compressed_codes_round_trip():
    codes = torch.randint(-127, 128, (3, 1000), dtype=torch.int8, generator=torch.Generator().manual_seed(1))
    assert torch.equal(decompress_codes(compress_codes(codes), codes.shape), codes)


def test_unknown_weight_coding_is_rejected():
    with pytest.raises(ValueError, match="weight_coding 'gzip'"):
        encode_state({"a": torch.zeros(1)}, "int8", "gzip")


def test_saved_lzma_model_predicts_as_the_uncoded_one(tmp_path):
    torch.manual_seed(0)
    model = build_model("hashgrid", **HASH)
    with torch.no_grad():
        model.table.copy_(torch.distributions.Laplace(0.0, 0.05).sample(model.table.shape))
    plain = save_model(tmp_path / "plain.pt", model, "hashgrid", HASH, "int8")
    coded = save_model(tmp_path / "coded.pt", model, "hashgrid", HASH, "int8", "lzma")
    assert coded < 0.85 * plain
    (a, _), (b, info) = load_model(tmp_path / "plain.pt"), load_model(tmp_path / "coded.pt")
    assert info["model_bytes"] == coded and info["weight_coding"] == "lzma"
    x = torch.rand(500, 3) * 2 - 1
    assert torch.equal(a(x), b(x))
