"""Entropy coding of integer codes with static models, in one ANS stream (constriction's `AnsCoder`).

The codes come in groups, each an (F, n) array: n rows of F codes (a hash-grid level: one row per
table row, one code per feature; any other tensor: F = 1). A row of zeros, common where no
training point reached a table row, costs one cheap flag; within the other rows each feature's
codes have their own histogram, and from the second feature on two, by whether the previous
feature's code is zero. So the coder sees what an order-0 model per feature cannot: that a row's
features are zero together (about 5 % fewer bytes than lzma on the rate-trained tables,
benchmarks/size_routes.py).

A coded stream is one byte string:

    version (1 byte), number of groups (varint), then per group:
        n (varint), F (varint), the zero-row flag's histogram, then per feature its histogram(s)
    then the ANS words (uint32, little-endian).

A histogram is: lowest code (zigzag varint), alphabet size K (varint; 0 when nothing is coded
with it), K frequencies of one byte (the counts scaled so that the largest is 255, present codes
at least 1). Encoder and decoder build each model from the same stored frequencies, so decoding
is exact; scaling counts to a byte costs well under 1 % of the bits (tests/test_entropy.py).
"""

from __future__ import annotations

import numpy as np

VERSION = 2
MAX_ALPHABET = 1 << 16  # codes of one histogram span at most this many values


def frequencies(codes: np.ndarray) -> tuple[int, np.ndarray]:
    """The lowest code and the counts scaled to 1..255 (0 for codes that do not occur)."""
    low = int(codes.min())
    counts = np.bincount(codes - low).astype(np.float64)
    if counts.size > MAX_ALPHABET:
        raise ValueError(f"codes span {counts.size} values (at most {MAX_ALPHABET})")
    scaled = np.rint(counts * (255.0 / counts.max()))
    scaled[counts > 0] = np.maximum(scaled[counts > 0], 1)  # every present code keeps a frequency
    return low, np.minimum(scaled, 255).astype(np.uint8)


def _parts(group: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """The zero-row flags of an (F, n) group and the code arrays coded after them, in order:
    feature 0 of the nonzero rows, then for each further feature its codes where the previous
    feature's code is zero and where it is not."""
    zero = ~group.any(axis=0)
    rows = group[:, ~zero]
    parts = [rows[0]]
    for f in range(1, len(rows)):
        previous_zero = rows[f - 1] == 0
        parts += [rows[f][previous_zero], rows[f][~previous_zero]]
    return zero.astype(np.int64), parts


class _Stream:
    """Histograms into a header, codes onto an ANS stack (pushed in reverse decoding order)."""

    def __init__(self):
        self.head = bytearray([VERSION])
        self.pending: list[tuple[np.ndarray, int, np.ndarray]] = []

    def histogram(self, codes: np.ndarray) -> None:
        if codes.size == 0:
            _put_varint(self.head, 0)
            _put_varint(self.head, 0)
            return
        low, freq = frequencies(codes)
        _put_varint(self.head, _zigzag(low))
        _put_varint(self.head, freq.size)
        self.head += freq.tobytes()
        if freq.size > 1:  # one code only: nothing to code
            self.pending.append((codes, low, freq))

    def bytes(self) -> bytes:
        import constriction

        coder = constriction.stream.stack.AnsCoder()
        for codes, low, freq in reversed(self.pending):
            coder.encode_reverse((codes - low).astype(np.int32), _model(freq))
        return bytes(self.head) + coder.get_compressed().astype("<u4").tobytes()


def encode_groups(groups: list[np.ndarray]) -> bytes:
    """Integer code groups, each (F, n) (or 1-D: F = 1), as one coded byte string."""
    stream = _Stream()
    _put_varint(stream.head, len(groups))
    for group in groups:
        group = np.asarray(group, dtype=np.int64)
        group = group.reshape(1, -1) if group.ndim == 1 else group
        _put_varint(stream.head, group.shape[1])
        _put_varint(stream.head, group.shape[0])
        zero, parts = _parts(group)
        stream.histogram(zero)
        for part in parts:
            stream.histogram(part)
    return stream.bytes()


def decode_groups(data: bytes) -> list[np.ndarray]:
    """The groups of `encode_groups`, each as an (F, n) int64 array."""
    import constriction

    view = memoryview(data)
    if len(view) == 0 or view[0] != VERSION:
        raise ValueError(f"not an entropy-coded stream of version {VERSION}")
    pos = 1
    count, pos = _get_varint(view, pos)
    shapes, models = [], []
    for _ in range(count):
        n, pos = _get_varint(view, pos)
        features, pos = _get_varint(view, pos)
        shapes.append((features, n))
        for _ in range(2 * features):  # the flag, feature 0, then two per further feature
            low, pos = _get_varint(view, pos)
            k, pos = _get_varint(view, pos)
            if pos + k > len(view):
                raise ValueError("entropy-coded stream ends inside a header")
            models.append((_unzigzag(low), np.frombuffer(view[pos : pos + k], dtype=np.uint8).copy()))
            pos += k
    coder = constriction.stream.stack.AnsCoder(np.frombuffer(view[pos:], dtype="<u4").astype(np.uint32))
    models_iter = iter(models)

    def take(size: int) -> np.ndarray:
        low, freq = next(models_iter)
        if size == 0:
            return np.zeros(0, np.int64)
        if freq.size == 0:
            raise ValueError("entropy-coded stream codes values without a histogram")
        if freq.size == 1:
            return np.full(size, low, np.int64)
        return coder.decode(_model(freq), size).astype(np.int64) + low

    groups = []
    for features, n in shapes:
        zero = take(n).astype(bool)
        rows = np.zeros((features, int((~zero).sum())), np.int64)
        rows[0] = take(rows.shape[1])
        for f in range(1, features):
            previous_zero = rows[f - 1] == 0
            rows[f][previous_zero] = take(int(previous_zero.sum()))
            rows[f][~previous_zero] = take(int((~previous_zero).sum()))
        group = np.zeros((features, n), np.int64)
        group[:, ~zero] = rows
        groups.append(group)
    return groups


def entropy_bits(codes: np.ndarray) -> float:
    """The codes' empirical order-0 entropy in bits, the bound of any coder with one static model."""
    counts = np.bincount(np.asarray(codes).reshape(-1).astype(np.int64) - int(np.min(codes)))
    p = counts[counts > 0] / counts.sum()
    return float(-(counts[counts > 0] * np.log2(p)).sum())


def _model(freq: np.ndarray):
    import constriction

    return constriction.stream.model.Categorical(freq.astype(np.float64) / float(freq.sum()), perfect=False)


def _zigzag(value: int) -> int:
    return 2 * value if value >= 0 else -2 * value - 1


def _unzigzag(value: int) -> int:
    return value // 2 if value % 2 == 0 else -(value + 1) // 2


def _put_varint(out: bytearray, value: int) -> None:
    if value < 0:
        raise ValueError(f"varint of a negative value {value}")
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def _get_varint(view: memoryview, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(view):
            raise ValueError("entropy-coded stream ends inside a header")
        byte = view[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
