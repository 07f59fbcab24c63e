"""Lesson 04 exercises: r² of one curve, and the linear connectivity of one pair.
Run `python -m lmn_edu.course check 04` to check your work.
"""
import numpy as np


def r_squared_line(y, lam):
    """r² of the curve y (n,) against λ (n,): the squared Pearson correlation.

    r² = cov(y, λ)² / (var(y) var(λ)). A constant curve is a (flat) straight line: return 1
    when the standard deviation of y is at most 1e-12 times max |y| (or y is all zeros).
    """
    raise NotImplementedError("your turn: see the docstring")


def connectivity_pair(f, xi, xj, n_lambda=21):
    """L_ij of eq (1)–(2): f maps (M, D) to (M, K); xi, xj are (D,) points.

    Walk x(λ) = x_i + λ (x_j − x_i) at n_lambda values λ uniform on [0, 1], compute r² of each
    output column of f along the line, and return their mean.
    """
    raise NotImplementedError("your turn: see the docstring")
