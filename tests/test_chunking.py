"""chunking.py: the pair loop's chunks cover each pair once, in bounded memory; scratch arrays are reused."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lmn_edu import chunking
from lmn_edu.chunking import Scratch, pair_chunks, pair_tiles


@settings(max_examples=25, deadline=None)
@given(n=st.integers(0, 60), per_pair=st.integers(0, 50), max_floats=st.integers(1, 400))
def test_pair_chunks_cover_each_pair_once_in_triu_order(n, per_pair, max_floats):
    chunks = list(pair_chunks(n, per_pair, max_floats))
    size = max(1, max_floats // max(per_pair, 1))
    assert all(1 <= len(i) == len(j) <= size for i, j in chunks)
    i = np.concatenate([c[0] for c in chunks]) if chunks else np.zeros(0, int)
    j = np.concatenate([c[1] for c in chunks]) if chunks else np.zeros(0, int)
    rows, cols = np.triu_indices(n, k=1)
    np.testing.assert_array_equal(i, rows)
    np.testing.assert_array_equal(j, cols)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 300), per_pair=st.integers(0, 50), max_floats=st.integers(1, 20000),
       split=st.floats(0, 1))
def test_pair_tiles_cover_each_pair_once_and_drop_few(n, per_pair, max_floats, split):
    size = max(1, max_floats // max(per_pair, 1))
    lo = int(split * n)
    seen = np.zeros((n, n), int)
    computed = 0
    for cols in ((0, lo), (lo, n)):                             # two column blocks, as the engine walks them
        for r0, r1, c0, c1 in pair_tiles(n, per_pair, max_floats, cols):
            assert (r1 - r0) * (c1 - c0) <= size and cols[0] <= c0 < c1 <= cols[1]
            seen[r0:r1, c0:c1] += 1
            computed += (r1 - r0) * (c1 - c0)
    pairs = n * (n - 1) // 2
    np.testing.assert_array_equal(np.triu(seen, 1), np.triu(np.ones((n, n), int), 1))   # each i < j once
    if pairs and size >= 64 * 64:                               # big tiles: rows capped, little dropped
        assert computed - pairs <= pairs * max(1 / 8, 2 * chunking.MIN_ROWS / n)


@pytest.mark.parametrize("n, per_pair", [(100, 57), (300, 57), (300, 1900), (768, 1900)])
def test_diagonal_tiles_drop_few_pairs(n, per_pair):
    # a narrow tail (per_pair 57: 19 λ × width 3) would fit all pairs in one square tile, half of it
    # below the diagonal; its rows are capped at n / 16, so the dropped share stays near 1/16 or less
    computed = sum((r1 - r0) * (c1 - c0) for r0, r1, c0, c1 in pair_tiles(n, per_pair))
    pairs = n * (n - 1) // 2
    assert computed / pairs - 1 <= 1 / 16 + 8 / n


def test_pair_chunks_never_list_all_pairs():
    # a million points: 5e11 pairs would need 8 TB as index arrays; the first chunk is immediate
    i, j = next(pair_chunks(10 ** 6, per_pair_floats=100, max_floats=1000))
    np.testing.assert_array_equal(i, np.zeros(10))
    np.testing.assert_array_equal(j, np.arange(1, 11))


def test_pair_chunks_follow_the_module_constant(monkeypatch):
    monkeypatch.setattr(chunking, "CHUNK_FLOATS", 30)
    assert [len(i) for i, _ in pair_chunks(5, 10)] == [3, 3, 3, 1]


def test_scratch_reuses_and_grows():
    s = Scratch()
    a = s("x", (3, 4))
    b = s("x", (2, 5))
    assert np.shares_memory(a, b)                              # the same memory, reused
    c = s("x", (5, 5))
    assert c.shape == (5, 5) and not np.shares_memory(a, c)   # grown
    assert not np.shares_memory(s("y", (2,)), c)              # names are separate
    f = s("x", (2, 2), np.float32)
    assert f.dtype == np.float32 and not np.shares_memory(f, c)   # and so are dtypes


def test_scratch_as_float64_copies_only_other_dtypes():
    s = Scratch()
    x64 = np.arange(6.0).reshape(2, 3)
    assert s.as_float64("y", x64) is x64
    x32 = x64.astype(np.float32)
    y = s.as_float64("y", x32)
    assert y.dtype == np.float64 and np.array_equal(y, x64)
    assert np.shares_memory(y, s.as_float64("y", x32))         # the same reused array
