"""Lesson 10 exercises: the mean off-diagonal connectivity, the weight of negative eigenvalues, and
the groups of points that L links. Run `python -m lmn_edu.course check 10` (`--hint` for a hint).
"""
import numpy as np


def mean_offdiagonal(L):
    """★ (5 min) The mean of L_ij over all i ≠ j (L: (N, N), N ≥ 2). Return a float."""
    raise NotImplementedError("your turn: see the docstring")


def negative_share(L):
    """★★ (15 min) (fraction of L's eigenvalues that are negative, their share of Σ|μ|), two floats.

    Eigenvalues come out of floating point with rounding: an eigenvalue that is 0 in exact
    arithmetic is computed as ±1e-16 or so. Count μ as negative only when μ < −1e-12 · max|μ|.
    """
    raise NotImplementedError("your turn: see the docstring")


def linear_groups(L, threshold=0.5):
    """★★★ (25 min) The groups of points that linear connectivity links, as labels (N,) ints.

    Link i and j when L_ij > threshold (strictly). Linear connectivity is not transitive, but
    groups are: i and k are in one group when a chain of links joins them. Number the groups
    0, 1, 2, … in the order of their first point (point 0 is in group 0).
    """
    raise NotImplementedError("your turn: see the docstring")
