"""Lesson 06 exercises: the ideal soft count of regions, and the kinks of one ReLU layer."""
import numpy as np


def ideal_soft_count(region):
    """The LMN of the ideal L (L_ij = 1 when points i and j share a region, else 0).

    region: (N,) int region label of each point. That LMN is 2^H(q), q the fractions of the
    points in each region (lesson 05: equal blocks give their number, unequal ones fewer).
    """
    q = np.bincount(region) / len(region)
    q = q[q > 0]
    return float(2 ** -(q * np.log2(q)).sum())


def relu_kinks(w, b, lo, hi):
    """Where the 1-D ReLU layer x ↦ relu(x·w + b) (w, b: (H,)) bends inside (lo, hi): sorted.

    Unit k switches on or off where x·w_k + b_k = 0; a unit with w_k = 0 never switches.
    """
    w, b = np.asarray(w, float), np.asarray(b, float)
    x = -b[w != 0] / w[w != 0]
    return np.sort(x[(x > lo) & (x < hi)])
