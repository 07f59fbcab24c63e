"""Bounded memory for the pair loops of eq (2): pairs in chunks, and scratch arrays reused by every chunk.

L has N² entries, but each L_ij needs the n_lambda points of one line through the tail. Holding
all pairs' lines at once would take O(N² · n_lambda · width) memory (gigabytes at N = 961), so
the loops (lmn.connectivity_matrix, mlp_lmn's fast path, torch_lmn) walk the pairs i < j in
chunks whose largest array holds about CHUNK_FLOATS numbers, whatever N is.
"""
import functools
import math

import numpy as np

# Pairs evaluated at once are chosen so that the largest array of a chunk holds about
# CHUNK_FLOATS float64 numbers (4 MB), whatever N is: large enough that Python's per-chunk cost
# (a few dozen NumPy calls) stays small next to the arithmetic, small enough that a chunk's few
# working arrays stay near the core (L2/L3). Measured for the engine's tiles (h1 of the paper's
# MLP, N = 768, one thread, a busy 2-core Xeon): 2^19 took 3.2 s, 2^17 3.7 s, 2^16 4.0 s.
CHUNK_FLOATS = 2 ** 19


def chunk_pairs(per_pair_floats, max_floats=None):
    """The chunk rule: how many pairs a chunk holds, max(1, max_floats // per_pair_floats).

    ``per_pair_floats``: the floats one pair adds to the largest array of a chunk;
    ``max_floats``: that array's budget (default CHUNK_FLOATS; the engine's ops tables set
    their own, e.g. larger on a GPU).
    """
    max_floats = CHUNK_FLOATS if max_floats is None else max_floats
    return max(1, int(max_floats // max(per_pair_floats, 1)))


def pair_chunks(n, per_pair_floats, max_floats=None):
    """Yield (i, j) index arrays covering every pair i < j of n points, in bounded chunks.

    Each chunk holds at most ``chunk_pairs(per_pair_floats, max_floats)`` pairs, in the order of
    ``np.triu_indices(n, 1)``. The indices are made chunk by chunk (pair number k → row i by
    a search over the rows' first pair numbers), so memory is O(chunk + n), not O(n²).
    """
    size = chunk_pairs(per_pair_floats, max_floats)
    r = np.arange(n)
    first = r * (2 * n - r - 1) // 2                        # (n,) number of the pair (r, r + 1)
    n_pairs = n * (n - 1) // 2
    for start in range(0, n_pairs, size):
        k = np.arange(start, min(start + size, n_pairs))    # (P,) pair numbers
        i = np.searchsorted(first, k, side="right") - 1
        yield i, k - first[i] + i + 1


# A tile on the diagonal holds pairs with j <= i, which are computed and dropped: about rows / n of
# the work. Rows are capped at n / DIAGONAL_SHARE (the tile grows wider instead), so that this share
# stays small when a tile could hold many pairs (narrow tails, small n); but not below MIN_ROWS,
# where the per-tile cost of Python (a few dozen NumPy calls) outweighs the dropped pairs.
DIAGONAL_SHARE = 16
MIN_ROWS = 8


def tile_shape(per_pair_floats, max_floats=None, n=None):
    """(rows, cols) of the tiles of pair_tiles: about √ of chunk_pairs each; for n points, at most
    max(MIN_ROWS, ⌈n / DIAGONAL_SHARE⌉) rows (wider instead) and at most n columns."""
    size = chunk_pairs(per_pair_floats, max_floats)
    rows = max(1, math.isqrt(size))
    cols = max(1, size // rows)
    if n is not None:                                        # no wider than the points, no taller than n / 16
        rows = min(rows, max(MIN_ROWS, -(-n // DIAGONAL_SHARE)))
        cols = min(max(1, size // rows), max(1, n))
    return rows, cols


def pair_tiles(n, per_pair_floats, max_floats=None, cols=None):
    """Yield tiles (r0, r1, c0, c1): rows i in [r0, r1) × columns j in [c0, c1), covering every
    pair i < j of n points with j in ``cols`` = (lo, hi) (default all) exactly once.

    A tile holds at most ``chunk_pairs(per_pair_floats, max_floats)`` pairs, about √ of them
    per side (at most n / DIAGONAL_SHARE rows), so that a tile's lines are sums of a row block's
    and a column block's tables (engine.py) with no gather. Pairs of a tile with j <= i are not pairs: the caller skips
    them (only tiles on the diagonal have some: a share of about rows-per-tile / n, at most
    1 / DIAGONAL_SHARE).
    """
    lo, hi = (0, n) if cols is None else cols
    rows, width = tile_shape(per_pair_floats, max_floats, n)
    for r0 in range(0, hi - 1, rows):
        r1 = min(r0 + rows, hi - 1)
        for c0 in range(max(lo, r0 + 1), hi, width):
            yield r0, r1, c0, min(c0 + width, hi)


@functools.lru_cache(maxsize=64)                          # np.dtype(...).name costs ~20 µs, and every tile asks
def _dtype_name(dtype):
    try:
        return np.dtype(dtype).name
    except TypeError:                                        # a torch dtype
        return str(dtype)


class Scratch:
    """Named arrays, reused by every chunk; one grows when a chunk needs more.

    A fresh multi-megabyte array per chunk costs page faults that measured slower than the
    arithmetic itself (docs/benchmarks.md), so the fast path writes into these instead.
    """

    def __init__(self, empty=np.empty):
        self._flat = {}
        self._empty = empty                                  # np.empty, or the torch ops' empty

    def __call__(self, name, shape, dtype=np.float64):
        size, key = math.prod(shape), (name, _dtype_name(dtype))
        if key not in self._flat or self._flat[key].shape[0] < size:
            self._flat[key] = self._empty((size,), dtype)
        return self._flat[key][:size].reshape(shape)

    def as_float64(self, name, x):
        """x itself if float64, else a float64 copy in a reused array."""
        if x.dtype == np.float64:
            return x
        out = self(name, x.shape)
        np.copyto(out, x)
        return out
