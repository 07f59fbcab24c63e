"""Lesson 10 exercises: the mean off-diagonal connectivity, and the weight of negative eigenvalues."""
import numpy as np


def mean_offdiagonal(L):
    """The mean of L_ij over all i ≠ j (L: (N, N))."""
    return float(L[~np.eye(len(L), dtype=bool)].mean())


def negative_share(L):
    """(fraction of L's eigenvalues that are negative, their share of Σ|μ|)."""
    mu = np.linalg.eigvalsh(L)
    return float(np.mean(mu < 0)), float(np.abs(mu[mu < 0]).sum() / np.abs(mu).sum())
