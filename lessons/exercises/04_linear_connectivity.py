"""Lesson 04 exercises: r² of one curve, the linear connectivity of one pair, and of all pairs.
Run `python -m lmn_edu.course check 04` to check your work (`--hint` for a hint).
"""
import numpy as np


def r_squared_line(y, lam):
    """★★ (15 min) r² of the curve y (n,) against λ (n,): the squared Pearson correlation.

    r² = cov(y, λ)² / (var(y) var(λ)); λ is any (n,) array of at least 3 values, not all equal.
    A constant curve is a (flat) straight line: return 1 when the standard deviation of y is at
    most 1e-12 times max |y| (so also when y is all zeros). Return a float.
    """
    raise NotImplementedError("your turn: see the docstring")


def connectivity_pair(f, xi, xj, n_lambda=21):
    """★★ (15 min) L_ij of eq (1)–(2): f maps (M, D) to (M, K); xi, xj are (D,) points.

    Walk x(λ) = x_i + λ (x_j − x_i) at n_lambda values λ uniform on [0, 1], both ends included,
    compute r² of each output column of f along the line, and return their mean (a float).
    """
    raise NotImplementedError("your turn: see the docstring")


def connectivity_matrix(f, X, n_lambda=21):
    """★★★ (30 min) The whole (N, N) matrix L of eq (2) for the N points X (N, D), f: (M, D) → (M, K).

    L is symmetric; L_ii = 1; and a line from a point to itself (two equal rows of X) is linear
    by definition, so L_ij = 1 there whatever f returns on it (f's arithmetic may be noisy).
    """
    raise NotImplementedError("your turn: see the docstring")
