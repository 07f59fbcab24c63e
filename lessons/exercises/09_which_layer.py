"""Lesson 09 exercises: the tails of the network after h1 and after the embedding, and the
affine-prefix identity by hand. Run `python -m lmn_edu.course check 09` (`--hint` for a hint).
"""
import numpy as np


def _silu(z):
    return z / (1 + np.exp(-z))


def tail_h1(params, h1):
    """★ (10 min) The rest of the network after h1: h1 (N, H) -> logits (N, C)."""
    raise NotImplementedError("your turn: see the docstring")


def tail_emb(params, emb):
    """★ (5 min) The rest of the network after the (concatenated) embedding: emb (N, 2d) -> logits (N, C)."""
    raise NotImplementedError("your turn: see the docstring")


def connectivity_via_z2(params, h1, n_lambda=21):
    """★★★ (30 min) L from h1 to the logits (N, N), without ever evaluating W2 on a line.

    The affine-prefix identity: the tail after h1 starts with the affine map z2 = h1 W2 + b2,
    which maps the line from h1_i to h1_j onto the line from z2_i to z2_j. So map the N
    points to z2 once, then walk each line there (n_lambda values λ on [0, 1]) through
    SiLU, W3, b3, and take eq (2): the mean over the logits of r² against λ (a constant curve,
    std ≤ 1e-12 max |y|, has r² = 1). L_ii = 1, and L_ij = 1 where rows i and j of h1 are equal.
    """
    raise NotImplementedError("your turn: see the docstring")
