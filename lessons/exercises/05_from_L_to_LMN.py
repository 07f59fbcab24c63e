"""Lesson 05 exercises: the entropy S_NL from eigenvalues, the LMN of a matrix, and the LMN of two
blocks too large to build. Run `python -m lmn_edu.course check 05` to check your work (`--hint`).
"""
import numpy as np


def entropy_from_eigenvalues(mu):
    """★ (10 min) S_NL of eq (3) in bits from the eigenvalues μ (n,) of L (any order, some may be
    negative, some exactly 0).

    p_i = |μ_i| / Σ_j |μ_j|;  S_NL = −Σ p_i log₂ p_i, where 0 · log 0 counts as 0. Return a float.
    """
    raise NotImplementedError("your turn: see the docstring")


def lmn(L):
    """★ (5 min) LMN = 2^S_NL of the symmetric connectivity matrix L (N, N). Return a float."""
    raise NotImplementedError("your turn: see the docstring")


def two_block_lmn(n1, n2, eps):
    """★★ (20 min) The LMN of L = ε + (1 − ε)·B, B block-diagonal with blocks of ones of sizes n1, n2.

    So L_ij = 1 inside a block and ε (0 ≤ ε ≤ 1) across. n1 and n2 may be millions: L
    (N × N, N = n1 + n2) is too large to build. Find its eigenvalues by hand instead (which
    vectors does L map to multiples of themselves?).
    """
    raise NotImplementedError("your turn: see the docstring")
