"""Storage formats of model weights: float32, float16, block-wise integer codes, and codes with
learned steps.

`int8`, `int6`, `int5` and `int4` store every large floating tensor (a hash grid's feature table)
as signed codes of that many bits, packed into bytes, with one float32 absmax scale per block of
BLOCK consecutive values; small tensors (the MLP head, biases) stay float16. The table holds
nearly all of a hash grid's parameters, so its bits per value set the model's size.

`weight_coding: lzma` compresses those codes losslessly (LZMA2, one byte per code before coding):
the values and the model's outputs stay bit-identical, and the stored size is the compressed one.
Hash-table codes are close to independent, so this saves about a quarter at 8 bits, what their
entropy allows.

Quantization-aware training (`fake_quantize`) makes the forward pass see exactly the values that
will be stored, while gradients pass straight through the rounding to the float weights.

`learned_step` stores every floating parameter as integer codes times a step that training learned
(`learned_step`: one step per hash-grid level and feature, one per other tensor), the steps beside
the codes; `weight_coding: ans` entropy-codes any format's codes (`entropy`: a hash grid's rows
of features together, one model per level and feature). Both decode exactly to the trained values.
"""

from __future__ import annotations

import lzma

import numpy as np
import torch
from torch.nn.utils import parametrize

from . import entropy, learned_step

WEIGHT_DTYPES = ("float32", "float16", "int8", "int6", "int5", "int4", "learned_step")
WEIGHT_CODINGS = ("none", "lzma", "ans")
BLOCK = 4096  # values per scale: small enough to follow a level's range, large enough that scales cost ~0.1 %
MIN_QUANTIZED = learned_step.LARGE  # tensors smaller than this stay float16: they are a rounding error in the size
SCALE_SUFFIX = ".qscale"
BLOCK_SUFFIX = ".qblock"  # the block size, stored so that a later BLOCK still reads old files
BITS_SUFFIX = ".qbits"  # codes narrower than 8 bits are packed; int8 files from before have no entry
SHAPE_SUFFIX = ".qshape"
LZMA_SUFFIX = ".qlzma"  # present when the codes are LZMA2-compressed (one byte per code before)
ANS_SUFFIX = ".qans"  # present when the codes are entropy-coded (`entropy`): its stream format's version
STEPS_SUFFIX = ".qstep"  # learned_step: each run's step (float32)
RUNS_SUFFIX = ".qruns"  # learned_step without coding: each run's length (coded streams hold them)
_META = (SCALE_SUFFIX, BLOCK_SUFFIX, BITS_SUFFIX, SHAPE_SUFFIX, LZMA_SUFFIX, ANS_SUFFIX, STEPS_SUFFIX, RUNS_SUFFIX)
_LZMA_FILTERS = [{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME}]  # raw stream: no container header


def code_bits(weight_dtype: str) -> int | None:
    """Bits per stored code of a block-scaled integer format, None for the others."""
    if weight_dtype not in WEIGHT_DTYPES:
        raise ValueError(f"unknown weight_dtype '{weight_dtype}' (choose from {', '.join(WEIGHT_DTYPES)})")
    return int(weight_dtype[3:]) if weight_dtype.startswith("int") else None


def is_quantized(tensor: torch.Tensor) -> bool:
    """Whether an integer format stores this tensor as codes (else float16)."""
    return tensor.is_floating_point() and tensor.numel() >= MIN_QUANTIZED


def encode_state(state: dict[str, torch.Tensor], weight_dtype: str, weight_coding: str = "none") -> dict[str, torch.Tensor]:
    """The state dict as stored: floating tensors cast or quantized (their codes compressed with
    `weight_coding`), others unchanged. `learned_step` takes the steps that `learned_step.bake`
    left beside each parameter."""
    bits = code_bits(weight_dtype)
    if weight_coding not in WEIGHT_CODINGS:
        raise ValueError(f"unknown weight_coding '{weight_coding}' (choose from {', '.join(WEIGHT_CODINGS)})")
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        value = value.detach().cpu()
        if key.endswith((learned_step.STEP_SUFFIX, learned_step.RUNS_SUFFIX)):
            continue
        if weight_dtype == "learned_step" and key + learned_step.STEP_SUFFIX in state:
            steps, runs = (state[key + suffix].detach().cpu() for suffix in (learned_step.STEP_SUFFIX, learned_step.RUNS_SUFFIX))
            out.update(_encode_learned(key, value, steps, runs, weight_coding))
        elif not value.is_floating_point():
            out[key] = value
        elif weight_dtype == "float32":
            out[key] = value.float()
        elif bits is not None and is_quantized(value):
            codes, out[key + SCALE_SUFFIX] = quantize(value, bits, BLOCK)
            out[key + BLOCK_SUFFIX] = torch.tensor([BLOCK], dtype=torch.int32)
            if weight_coding == "lzma":
                out[key] = compress_codes(codes)
                out[key + LZMA_SUFFIX] = torch.tensor([bits], dtype=torch.int32)
                out[key + SHAPE_SUFFIX] = torch.tensor(list(value.shape), dtype=torch.int32)
            elif weight_coding == "ans":
                out[key] = _coded(entropy.encode_groups([b.numpy() for b in torch.split(codes.reshape(-1), BLOCK)]))
                out[key + ANS_SUFFIX] = torch.tensor([entropy.VERSION], dtype=torch.uint8)
                out[key + SHAPE_SUFFIX] = torch.tensor(list(value.shape), dtype=torch.int32)
            elif bits == 8:
                out[key] = codes
            else:
                out[key] = pack_codes(codes, bits)
                out[key + BITS_SUFFIX] = torch.tensor([bits], dtype=torch.int32)
                out[key + SHAPE_SUFFIX] = torch.tensor(list(value.shape), dtype=torch.int32)
        else:
            out[key] = value.half()
    return out


def _encode_learned(key: str, value: torch.Tensor, steps: torch.Tensor, runs: torch.Tensor, weight_coding: str) -> dict[str, torch.Tensor]:
    codes = learned_step.codes_of(value, steps, runs)
    out = {key + STEPS_SUFFIX: steps.float(), key + SHAPE_SUFFIX: torch.tensor(list(value.shape), dtype=torch.int32)}
    if weight_coding == "ans":
        out[key] = _coded(learned_step.ans_coded(codes, runs))
        out[key + ANS_SUFFIX] = torch.tensor([entropy.VERSION], dtype=torch.uint8)
    elif weight_coding == "lzma":
        out[key] = compress_codes(codes.to(torch.int8))
        out[key + LZMA_SUFFIX] = torch.tensor([8], dtype=torch.int32)
        out[key + RUNS_SUFFIX] = runs.to(torch.int32)
    else:
        out[key] = codes.to(torch.int8)
        out[key + RUNS_SUFFIX] = runs.to(torch.int32)
    return out


def _coded(data: bytes) -> torch.Tensor:
    return torch.frombuffer(bytearray(data), dtype=torch.uint8)


def decode_state(stored: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Float32 state dict from a stored one (inverse of `encode_state`, up to rounding)."""
    out: dict[str, torch.Tensor] = {}
    for key, value in stored.items():
        if key.endswith(_META):
            continue
        steps, scale = stored.get(key + STEPS_SUFFIX), stored.get(key + SCALE_SUFFIX)
        if steps is None and scale is None:
            out[key] = value.float() if value.is_floating_point() else value
            continue
        shape = torch.Size(stored[key + SHAPE_SUFFIX].tolist()) if key + SHAPE_SUFFIX in stored else value.shape
        if key + ANS_SUFFIX in stored:
            if int(stored[key + ANS_SUFFIX][0]) != entropy.VERSION:
                raise ValueError(f"{key}: entropy-coded with version {int(stored[key + ANS_SUFFIX][0])}, this reader takes {entropy.VERSION}")
            groups = entropy.decode_groups(value.numpy().tobytes())
            runs = torch.tensor([g.shape[1] for _ in range(groups[0].shape[0]) for g in groups], dtype=torch.int64)
            value = torch.from_numpy(np.hstack(groups)).view(shape)
        elif key + LZMA_SUFFIX in stored:
            value = decompress_codes(value, shape)
        elif key + BITS_SUFFIX in stored:
            bits = int(stored[key + BITS_SUFFIX])
            value = unpack_codes(value, bits, shape.numel()).view(shape)
        if steps is not None:
            runs = stored[key + RUNS_SUFFIX].long() if key + RUNS_SUFFIX in stored else runs
            out[key] = learned_step.decoded(value, steps, runs)
        else:
            out[key] = dequantize(value.to(torch.int8), scale, int(stored[key + BLOCK_SUFFIX]))
    return out


def quantize(tensor: torch.Tensor, bits: int, block: int = BLOCK) -> tuple[torch.Tensor, torch.Tensor]:
    """Signed codes in [-(2^(bits-1) - 1), 2^(bits-1) - 1] as int8 (same shape) and float32 absmax
    scales, one per block of the flattened tensor."""
    blocks = _blocks(tensor.detach().float(), block)
    qmax = 2 ** (bits - 1) - 1
    scale = blocks.abs().amax(1).clamp_min(torch.finfo(torch.float32).tiny) / qmax
    codes = (blocks / scale[:, None]).round().clamp(-qmax, qmax).to(torch.int8)
    return _unblocked(codes, tensor.shape), scale


def dequantize(codes: torch.Tensor, scale: torch.Tensor, block: int = BLOCK) -> torch.Tensor:
    return _unblocked(_blocks(codes.float(), block) * scale[:, None].float(), codes.shape)


def compress_codes(codes: torch.Tensor) -> torch.Tensor:
    """int8 codes (any width up to 8 bits, one per byte) as a flat uint8 tensor of LZMA2 bytes."""
    payload = lzma.compress(codes.reshape(-1).numpy().tobytes(), format=lzma.FORMAT_RAW, filters=_LZMA_FILTERS)
    return torch.frombuffer(bytearray(payload), dtype=torch.uint8)


def decompress_codes(payload: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    raw = lzma.decompress(payload.numpy().tobytes(), format=lzma.FORMAT_RAW, filters=_LZMA_FILTERS)
    return torch.frombuffer(bytearray(raw), dtype=torch.int8).view(shape)


def pack_codes(codes: torch.Tensor, bits: int) -> torch.Tensor:
    """Signed codes of `bits` bits, packed little-endian into a flat uint8 tensor."""
    unsigned = (codes.reshape(-1).numpy().astype(np.int16) + 2 ** (bits - 1)).astype(np.uint8)
    planes = (unsigned[:, None] >> np.arange(bits, dtype=np.uint8)) & 1
    return torch.from_numpy(np.packbits(planes.reshape(-1), bitorder="little"))


def unpack_codes(packed: torch.Tensor, bits: int, count: int) -> torch.Tensor:
    planes = np.unpackbits(packed.numpy(), count=count * bits, bitorder="little").reshape(count, bits)
    unsigned = (planes.astype(np.int16) << np.arange(bits, dtype=np.int16)).sum(1)
    return torch.from_numpy((unsigned - 2 ** (bits - 1)).astype(np.int8))


class _FakeQuantize(torch.nn.Module):
    """Parametrization: the stored values in the forward pass, identity gradient (straight-through)."""

    def __init__(self, bits: int, block: int):
        super().__init__()
        self.bits, self.block = bits, block

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            codes, scale = quantize(weight, self.bits, self.block)
            stored = dequantize(codes, scale, self.block)
        return weight + (stored - weight).detach()


def fake_quantize(model: torch.nn.Module, weight_dtype: str) -> list[tuple[torch.nn.Module, str]]:
    """Make every tensor that `weight_dtype` stores as codes read as its stored values (in place).
    Returns the (module, name) pairs for `remove_fake_quantize`; none for float formats."""
    bits = code_bits(weight_dtype)
    if bits is None:
        return []
    done = []
    for module in list(model.modules()):
        for name, param in list(module.named_parameters(recurse=False)):
            if is_quantized(param):
                parametrize.register_parametrization(module, name, _FakeQuantize(bits, BLOCK))
                done.append((module, name))
    return done


def remove_fake_quantize(done: list[tuple[torch.nn.Module, str]]) -> None:
    """Back to plain float parameters (the values before rounding; `encode_state` rounds them the same way)."""
    for module, name in done:
        parametrize.remove_parametrizations(module, name, leave_parametrized=False)


def _blocks(tensor: torch.Tensor, block: int) -> torch.Tensor:
    """The flattened tensor, zero-padded to whole blocks, as (blocks, block)."""
    flat = tensor.reshape(-1)
    return torch.nn.functional.pad(flat, (0, (-flat.numel()) % block)).view(-1, block)


def _unblocked(blocks: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    return blocks.reshape(-1)[: shape.numel()].view(shape)


def stored_bytes(state: dict[str, torch.Tensor]) -> int:
    """Bytes of all tensors (parameters, buffers, scales) in the dtype they are stored in."""
    return int(sum(t.numel() * t.element_size() for t in state.values()))
