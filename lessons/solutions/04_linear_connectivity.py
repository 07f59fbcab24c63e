"""Lesson 04 exercises: r² of one curve, and the linear connectivity of one pair."""
import numpy as np


def r_squared_line(y, lam):
    """r² of the curve y (n,) against λ (n,): the squared Pearson correlation.

    r² = cov(y, λ)² / (var(y) var(λ)). A constant curve is a (flat) straight line: return 1
    when the standard deviation of y is at most 1e-12 times max |y| (or y is all zeros).
    """
    yc, lc = y - y.mean(), lam - lam.mean()
    if yc.std() <= 1e-12 * np.abs(y).max():
        return 1.0
    return float((yc @ lc) ** 2 / ((yc @ yc) * (lc @ lc)))


def connectivity_pair(f, xi, xj, n_lambda=21):
    """L_ij of eq (1)–(2): f maps (M, D) to (M, K); xi, xj are (D,) points.

    Walk x(λ) = x_i + λ (x_j − x_i) at n_lambda values λ uniform on [0, 1], compute r² of each
    output column of f along the line, and return their mean.
    """
    lam = np.linspace(0, 1, n_lambda)
    Y = f(xi[None, :] + lam[:, None] * (xj - xi)[None, :])    # (n_lambda, K)
    return float(np.mean([r_squared_line(Y[:, k], lam) for k in range(Y.shape[1])]))
