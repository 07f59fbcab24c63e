"""Lesson 06 exercises: the ideal soft count of regions, and the kinks of one ReLU layer.
Run `python -m lmn_edu.course check 06` to check your work.
"""
import numpy as np


def ideal_soft_count(region):
    """The LMN of the ideal L (L_ij = 1 when points i and j share a region, else 0).

    region: (N,) int region label of each point. That LMN is 2^H(q), q the fractions of the
    points in each region (lesson 05: equal blocks give their number, unequal ones fewer).
    """
    raise NotImplementedError("your turn: see the docstring")


def relu_kinks(w, b, lo, hi):
    """Where the 1-D ReLU layer x ↦ relu(x·w + b) (w, b: (H,)) bends inside (lo, hi): sorted.

    Unit k switches on or off where x·w_k + b_k = 0; a unit with w_k = 0 never switches.
    """
    raise NotImplementedError("your turn: see the docstring")
