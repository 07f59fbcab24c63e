"""Lesson 05 exercises: the entropy S_NL from eigenvalues, and the LMN of a matrix."""
import numpy as np


def entropy_from_eigenvalues(mu):
    """S_NL of eq (3) in bits from the eigenvalues μ of L (any order, some may be negative).

    p_i = |μ_i| / Σ_j |μ_j|;  S_NL = −Σ p_i log₂ p_i, where 0 · log 0 counts as 0.
    """
    p = np.abs(mu) / np.abs(mu).sum()
    p = p[p > 0]
    return float(-np.sum(p * np.log2(p)))


def lmn(L):
    """LMN = 2^S_NL of the symmetric connectivity matrix L (N, N)."""
    return float(2 ** entropy_from_eigenvalues(np.linalg.eigvalsh(L)))
