"""Bounded memory for the pair loops of eq (2): pairs in chunks, and scratch arrays reused by every chunk.

L has N² entries, but each L_ij needs the n_lambda points of one line through the tail. Holding
all pairs' lines at once would take O(N² · n_lambda · width) memory (gigabytes at N = 961), so
the loops (lmn.connectivity_matrix, mlp_lmn's fast path, torch_lmn) walk the pairs i < j in
chunks whose largest array holds about CHUNK_FLOATS numbers, whatever N is.
"""
import numpy as np

# Pairs evaluated at once are chosen so that the largest array of a chunk holds about
# CHUNK_FLOATS float64 numbers (1 MB), whatever N is: small enough that a chunk's few
# working arrays stay in a core's L2 cache, where elementwise NumPy runs several times
# faster than from main memory; large enough that Python's per-chunk cost stays small.
# (Measured: see docs/benchmarks.md.)
CHUNK_FLOATS = 131_072


def pair_chunks(n, per_pair_floats, max_floats=None):
    """Yield (i, j) index arrays covering every pair i < j of n points, in bounded chunks.

    Each chunk holds at most max(1, max_floats // per_pair_floats) pairs, in the order of
    ``np.triu_indices(n, 1)``. The indices are made chunk by chunk (pair number k → row i by
    a search over the rows' first pair numbers), so memory is O(chunk + n), not O(n²).
    """
    max_floats = CHUNK_FLOATS if max_floats is None else max_floats
    size = max(1, int(max_floats // max(per_pair_floats, 1)))
    r = np.arange(n)
    first = r * (2 * n - r - 1) // 2                        # (n,) number of the pair (r, r + 1)
    n_pairs = n * (n - 1) // 2
    for start in range(0, n_pairs, size):
        k = np.arange(start, min(start + size, n_pairs))    # (P,) pair numbers
        i = np.searchsorted(first, k, side="right") - 1
        yield i, k - first[i] + i + 1


class Scratch:
    """Named arrays, reused by every chunk; one grows when a chunk needs more.

    A fresh multi-megabyte array per chunk costs page faults that measured slower than the
    arithmetic itself (docs/benchmarks.md), so the fast path writes into these instead.
    """

    def __init__(self):
        self._flat = {}

    def __call__(self, name, shape, dtype=np.float64):
        size, key = int(np.prod(shape)), (name, np.dtype(dtype).name)
        if key not in self._flat or self._flat[key].size < size:
            self._flat[key] = np.empty(size, dtype)
        return self._flat[key][:size].reshape(shape)

    def as_float64(self, name, x):
        """x itself if float64, else a float64 copy in a reused array."""
        if x.dtype == np.float64:
            return x
        out = self(name, x.shape)
        np.copyto(out, x)
        return out
