import numpy as np
import pytest

from implicit3d.entropy import decode_groups, encode_groups, entropy_bits, frequencies


def _laplace_codes(n, scale, seed):
    return np.clip(np.rint(np.random.default_rng(seed).laplace(0, scale, n)), -127, 127).astype(np.int64)


def _rows(n, features, zero_share, seed):
    """(F, n) codes whose rows are all zero with probability zero_share, as in an unreached table row."""
    rng = np.random.default_rng(seed)
    codes = np.stack([_laplace_codes(n, 1.5, seed + f) for f in range(features)])
    codes[:, rng.random(n) < zero_share] = 0
    return codes


@pytest.mark.parametrize(
    "groups",
    [
        [np.array([0, 1, -1, 5, 0, 0, -127, 127])],  # the full signed-byte range in one 1-D group
        [np.zeros(1000, np.int64), np.full(7, -3), np.array([4])],  # one code only: nothing coded
        [np.zeros(0, np.int64), np.array([2, 2, 3]), np.zeros((2, 0), np.int64)],  # empty groups
        [_laplace_codes(20000, s, seed) for seed, s in enumerate([0.3, 2.0, 15.0])],
        [np.array([-30000, 30000, 0])],  # far outside a byte: the alphabet spans their range
        [_rows(5000, 2, 0.6, 0), _rows(300, 3, 0.0, 1), _rows(40, 2, 1.0, 2)],  # rows of features
        [np.array([[0, 0, 1, 0], [0, 5, 0, 0]])],  # every kind of row: zero, one feature, the other
    ],
)
def test_round_trip_is_exact(groups):
    back = decode_groups(encode_groups(groups))
    assert len(back) == len(groups)
    for a, b in zip(groups, back, strict=True):
        a = a.reshape(1, -1) if a.ndim == 1 else a
        assert b.dtype == np.int64 and np.array_equal(a, b)


def test_independent_codes_cost_their_entropy_plus_the_tables():
    groups = [_laplace_codes(50000, s, seed) for seed, s in enumerate([0.5, 3.0])]
    data = encode_groups(groups)
    bound = sum(entropy_bits(g) for g in groups) / 8
    tables = sum(frequencies(g)[1].size + 8 for g in groups)
    assert bound < len(data) < 1.01 * bound + tables + 8


def test_rows_that_are_zero_together_cost_less_than_their_features_apart():
    rows = _rows(20000, 2, 0.5, 3)
    together = len(encode_groups([rows]))
    apart = len(encode_groups([rows[0], rows[1]]))
    assert together < 0.96 * apart


def test_frequencies_keep_rare_codes_and_fit_a_byte():
    codes = np.concatenate([np.zeros(10**6, np.int64), [1, 3]])
    low, freq = frequencies(codes)
    assert low == 0 and freq.dtype == np.uint8 and list(freq) == [255, 1, 0, 1]


def test_an_alphabet_too_wide_is_refused():
    with pytest.raises(ValueError, match="span"):
        encode_groups([np.array([1, 1 << 17])])


@pytest.mark.parametrize("data, message", [(b"", "version"), (b"\x07", "version"), (b"\x02\x01\x05", "ends inside a header")])
def test_a_damaged_stream_fails_clearly(data, message):
    with pytest.raises(ValueError, match=message):
        decode_groups(data)
