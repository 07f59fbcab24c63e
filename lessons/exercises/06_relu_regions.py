"""Lesson 06 exercises: the ideal soft count of regions, a sharpened SiLU that never overflows, and
the kinks of one ReLU layer. Run `python -m lmn_edu.course check 06` to check your work (`--hint`).
"""
import numpy as np


def ideal_soft_count(region):
    """★ (10 min) The LMN of the ideal L (L_ij = 1 when points i and j share a region, else 0).

    region: (N,) int region label of each point — any integers, not necessarily 0 … R−1. That
    LMN is 2^H(q), q the fractions of the points in each region (lesson 05: equal blocks give
    their number, unequal ones fewer). Return a float.
    """
    raise NotImplementedError("your turn: see the docstring")


def sharp_silu(z, beta):
    """★ (5 min) silu_β(z) = silu(β z) / β = z · sigmoid(β z), elementwise on the array z.

    β may be as large as 10⁶ and z as negative as −10⁴: no overflow, no NaN, no warning.
    """
    raise NotImplementedError("your turn: see the docstring")


def relu_kinks(w, b, lo, hi):
    """★★ (15 min) Where the 1-D ReLU layer x ↦ relu(x·w + b) (w, b: (H,)) bends strictly inside
    (lo, hi): a sorted array, each position once (two units may bend at the same x).

    Unit k switches on or off where x·w_k + b_k = 0; a unit with w_k = 0 never switches.
    """
    raise NotImplementedError("your turn: see the docstring")


def relu_region_edges(w1, b1, W2, b2, lo, hi):
    """★★★ (30 min) The exact linear regions of a two-layer ReLU net on a 1-D input: where they end.

    The net: x ↦ relu(relu(x·w1 + b1) W2 + b2), with w1, b1 (H1,), W2 (H1, H2), b2 (H2,). A region
    ends wherever a unit of either layer switches on or off (its pre-activation crosses 0).
    Return those positions strictly inside (lo, hi), sorted, each once — exactly, to rounding,
    not read off a grid. Between two kinks of the first layer, the first layer is affine in x.
    """
    raise NotImplementedError("your turn: see the docstring")
