"""Lesson 10 exercises: the mean off-diagonal connectivity, and the weight of negative eigenvalues.
Run `python -m lmn_edu.course check 10` to check your work.
"""
import numpy as np


def mean_offdiagonal(L):
    """The mean of L_ij over all i ≠ j (L: (N, N))."""
    raise NotImplementedError("your turn: see the docstring")


def negative_share(L):
    """(fraction of L's eigenvalues that are negative, their share of Σ|μ|)."""
    raise NotImplementedError("your turn: see the docstring")
