"""Lesson 09 exercises: the tails of the network after h1 and after the embedding, and the
affine-prefix identity by hand."""
import numpy as np


def _silu(z):
    return z / (1 + np.exp(-z))


def tail_h1(params, h1):
    """★ (10 min) The rest of the network after h1: h1 (N, H) -> logits (N, C)."""
    return _silu(h1 @ params["W2"] + params["b2"]) @ params["W3"] + params["b3"]


def tail_emb(params, emb):
    """★ (5 min) The rest of the network after the (concatenated) embedding: emb (N, 2d) -> logits (N, C)."""
    return tail_h1(params, _silu(emb @ params["W1"] + params["b1"]))


def connectivity_via_z2(params, h1, n_lambda=21):
    """★★★ (30 min) L from h1 to the logits (N, N), without ever evaluating W2 on a line.

    The affine-prefix identity: the tail after h1 starts with the affine map z2 = h1 W2 + b2,
    which maps the line from h1_i to h1_j onto the line from z2_i to z2_j. So map the N
    points to z2 once, then walk each line there (n_lambda values λ on [0, 1]) through
    SiLU, W3, b3, and take eq (2): the mean over the logits of r² against λ (a constant curve,
    std ≤ 1e-12 max |y|, has r² = 1). L_ii = 1, and L_ij = 1 where rows i and j of h1 are equal.
    """
    z2 = h1 @ params["W2"] + params["b2"]                     # (N, H): the affine prefix, once
    lam = np.linspace(0, 1, n_lambda)
    lc = lam - lam.mean()
    n = len(h1)
    L = np.eye(n)
    for i in range(n):
        for j in range(i + 1, n):
            if np.array_equal(h1[i], h1[j]):
                L[i, j] = L[j, i] = 1.0
                continue
            z = z2[i] + lam[:, None] * (z2[j] - z2[i])        # (n_lambda, H): the line in z2
            y = _silu(z) @ params["W3"] + params["b3"]        # (n_lambda, C)
            yc = y - y.mean(axis=0)
            flat = yc.std(axis=0) <= 1e-12 * np.abs(y).max()
            with np.errstate(divide="ignore", invalid="ignore"):
                r2 = np.where(flat, 1.0, (lc @ yc) ** 2 / ((yc * yc).sum(axis=0) * (lc @ lc)))
            L[i, j] = L[j, i] = float(r2.mean())
    return L
