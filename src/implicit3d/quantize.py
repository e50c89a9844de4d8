"""Storage formats of model weights: float32, float16, and block-wise int8.

int8 stores every large floating tensor (a hash grid's feature table) as signed
8-bit codes with one float32 absmax scale per block of BLOCK consecutive values;
small tensors (the MLP head, biases) stay float16. The table holds nearly all of
a hash grid's parameters, so int8 halves the stored size against float16, which
buys twice the table rows in the same bytes.
"""

from __future__ import annotations

import torch

WEIGHT_DTYPES = ("float32", "float16", "int8")
BLOCK = 4096  # values per scale: small enough to follow a level's range, large enough that scales cost ~0.1 %
MIN_QUANTIZED = 16384  # tensors smaller than this stay float16: they are a rounding error in the size
SCALE_SUFFIX = ".qscale"
BLOCK_SUFFIX = ".qblock"  # the block size, stored so that a later BLOCK still reads old files
_QMAX = 127


def encode_state(state: dict[str, torch.Tensor], weight_dtype: str) -> dict[str, torch.Tensor]:
    """The state dict as stored: floating tensors cast or quantized, others unchanged."""
    if weight_dtype not in WEIGHT_DTYPES:
        raise ValueError(f"unknown weight_dtype '{weight_dtype}' (choose from {', '.join(WEIGHT_DTYPES)})")
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        value = value.detach().cpu()
        if not value.is_floating_point():
            out[key] = value
        elif weight_dtype == "float32":
            out[key] = value.float()
        elif weight_dtype == "int8" and value.numel() >= MIN_QUANTIZED:
            out[key], out[key + SCALE_SUFFIX] = quantize_int8(value, BLOCK)
            out[key + BLOCK_SUFFIX] = torch.tensor([BLOCK], dtype=torch.int32)
        else:
            out[key] = value.half()
    return out


def decode_state(stored: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Float32 state dict from a stored one (inverse of `encode_state`, up to rounding)."""
    out: dict[str, torch.Tensor] = {}
    for key, value in stored.items():
        if key.endswith((SCALE_SUFFIX, BLOCK_SUFFIX)):
            continue
        scale = stored.get(key + SCALE_SUFFIX)
        if scale is not None:
            out[key] = dequantize_int8(value, scale, int(stored[key + BLOCK_SUFFIX]))
        else:
            out[key] = value.float() if value.is_floating_point() else value
    return out


def quantize_int8(tensor: torch.Tensor, block: int = BLOCK) -> tuple[torch.Tensor, torch.Tensor]:
    """int8 codes (same shape) and float32 absmax scales, one per block of the flattened tensor."""
    blocks = _blocks(tensor.detach().float(), block)
    scale = blocks.abs().amax(1).clamp_min(torch.finfo(torch.float32).tiny) / _QMAX
    codes = (blocks / scale[:, None]).round().clamp(-_QMAX, _QMAX).to(torch.int8)
    return _unblocked(codes, tensor.shape), scale


def dequantize_int8(codes: torch.Tensor, scale: torch.Tensor, block: int = BLOCK) -> torch.Tensor:
    return _unblocked(_blocks(codes.float(), block) * scale[:, None].float(), codes.shape)


def _blocks(tensor: torch.Tensor, block: int) -> torch.Tensor:
    """The flattened tensor, zero-padded to whole blocks, as (blocks, block)."""
    flat = tensor.reshape(-1)
    return torch.nn.functional.pad(flat, (0, (-flat.numel()) % block)).view(-1, block)


def _unblocked(blocks: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    return blocks.reshape(-1)[: shape.numel()].view(shape)


def stored_bytes(state: dict[str, torch.Tensor]) -> int:
    """Bytes of all tensors (parameters, buffers, scales) in the dtype they are stored in."""
    return int(sum(t.numel() * t.element_size() for t in state.values()))
