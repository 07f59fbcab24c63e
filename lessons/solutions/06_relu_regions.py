"""Lesson 06 exercises: the ideal soft count of regions, a sharpened SiLU that never overflows, and
the kinks of one ReLU layer."""
import numpy as np


def ideal_soft_count(region):
    """★ (10 min) The LMN of the ideal L (L_ij = 1 when points i and j share a region, else 0).

    region: (N,) int region label of each point — any integers, not necessarily 0 … R−1. That
    LMN is 2^H(q), q the fractions of the points in each region (lesson 05: equal blocks give
    their number, unequal ones fewer). Return a float.
    """
    _, counts = np.unique(region, return_counts=True)
    q = counts / counts.sum()
    return float(2 ** -(q * np.log2(q)).sum())


def sharp_silu(z, beta):
    """★ (5 min) silu_β(z) = silu(β z) / β = z · sigmoid(β z), elementwise on the array z.

    β may be as large as 10⁶ and z as negative as −10⁴: no overflow, no NaN, no warning.
    """
    z = np.asarray(z, dtype=float)
    return z * 0.5 * (1 + np.tanh(0.5 * beta * z))          # sigmoid(x) = (1 + tanh(x/2)) / 2


def relu_kinks(w, b, lo, hi):
    """★★ (15 min) Where the 1-D ReLU layer x ↦ relu(x·w + b) (w, b: (H,)) bends strictly inside
    (lo, hi): a sorted array, each position once (two units may bend at the same x).

    Unit k switches on or off where x·w_k + b_k = 0; a unit with w_k = 0 never switches.
    """
    w, b = np.asarray(w, float), np.asarray(b, float)
    x = -b[w != 0] / w[w != 0]
    return np.unique(x[(x > lo) & (x < hi)])


def relu_region_edges(w1, b1, W2, b2, lo, hi):
    """★★★ (30 min) The exact linear regions of a two-layer ReLU net on a 1-D input: where they end.

    The net: x ↦ relu(relu(x·w1 + b1) W2 + b2), with w1, b1 (H1,), W2 (H1, H2), b2 (H2,). A region
    ends wherever a unit of either layer switches on or off (its pre-activation crosses 0).
    Return those positions strictly inside (lo, hi), sorted, each once — exactly, to rounding,
    not read off a grid. Between two kinks of the first layer, the first layer is affine in x.
    """
    w1, b1 = np.asarray(w1, float), np.asarray(b1, float)
    first = relu_kinks(w1, b1, lo, hi)                        # where layer 1 switches
    bounds = np.concatenate([[lo], first, [hi]])
    edges = [first]
    for s, e in zip(bounds[:-1], bounds[1:]):
        on = ((s + e) / 2 * w1 + b1) > 0                      # layer 1's pattern on this piece
        a, c = (w1 * on) @ W2, (b1 * on) @ W2 + b2            # layer 2: z2(x) = x·a + c here, (H2,)
        x = -c[a != 0] / a[a != 0]
        edges.append(x[(x > s) & (x < e)])
    return np.unique(np.concatenate(edges))
