"""Lesson 04 exercises: r² of one curve, the linear connectivity of one pair, and of all pairs."""
import numpy as np


def r_squared_line(y, lam):
    """★★ (15 min) r² of the curve y (n,) against λ (n,): the squared Pearson correlation.

    r² = cov(y, λ)² / (var(y) var(λ)); λ is any (n,) array of at least 3 values, not all equal.
    A constant curve is a (flat) straight line: return 1 when the standard deviation of y is at
    most 1e-12 times max |y| (so also when y is all zeros). Return a float.
    """
    y, lam = np.asarray(y, dtype=float), np.asarray(lam, dtype=float)
    yc, lc = y - y.mean(), lam - lam.mean()
    if yc.std() <= 1e-12 * np.abs(y).max():
        return 1.0
    return float((yc @ lc) ** 2 / ((yc @ yc) * (lc @ lc)))


def connectivity_pair(f, xi, xj, n_lambda=21):
    """★★ (15 min) L_ij of eq (1)–(2): f maps (M, D) to (M, K); xi, xj are (D,) points.

    Walk x(λ) = x_i + λ (x_j − x_i) at n_lambda values λ uniform on [0, 1], both ends included,
    compute r² of each output column of f along the line, and return their mean (a float).
    """
    lam = np.linspace(0, 1, n_lambda)
    Y = np.asarray(f(xi[None, :] + lam[:, None] * (xj - xi)[None, :]))    # (n_lambda, K)
    return float(np.mean([r_squared_line(Y[:, k], lam) for k in range(Y.shape[1])]))


def connectivity_matrix(f, X, n_lambda=21):
    """★★★ (30 min) The whole (N, N) matrix L of eq (2) for the N points X (N, D), f: (M, D) → (M, K).

    L is symmetric; L_ii = 1; and a line from a point to itself (two equal rows of X) is linear
    by definition, so L_ij = 1 there whatever f returns on it (f's arithmetic may be noisy).
    """
    n = len(X)
    L = np.eye(n)
    for i in range(n):
        for j in range(i + 1, n):
            same = np.array_equal(X[i], X[j])
            L[i, j] = L[j, i] = 1.0 if same else connectivity_pair(f, X[i], X[j], n_lambda)
    return L
