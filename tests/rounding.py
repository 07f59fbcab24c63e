"""How far two correct float64 evaluations of L may differ: a bound from rounding, for tests.

The fast path (mlp_lmn.py) and the generic one (lmn.connectivity_matrix) compute the same
curves y_k(λ) by different float64 arithmetic (SiLU as x / (1 + e^−x) or with tanh, softmax in
place, the endpoints once per point), so each point of a curve may differ by a few ulps of the
curve's largest value, u = ulps · ε · scale. Centring and the Pearson correlation are
1-Lipschitz in the right norms, so r = cov / √(var_y var_λ) moves by at most 2u / std(y) and
r² by at most 4u / std(y). For a curve whose spread is tiny next to its size (a softmax
output near 1 that varies by 1e-10) that is not small: its r² is decided by the last few
significant digits, whoever computes it. Measured: hypothesis seed 225, layer emb, output
probs, scale 3 has curves with std 3e-10 and its L differs by 3e-7 between the two paths,
which needs u ≈ 0.6 ε · scale; the default ulps = 64 leaves a 100× margin.
"""
import numpy as np

import lmn_edu
from lmn_edu.lmn import flat_rtol


def connectivity_rounding_bound(f, X, n_lambda=21, ulps=64):
    """(N, N) bound on |ΔL_ij| between two float64 evaluations of eq (2) for f on X (exact: 0 on the diagonal)."""
    X = np.asarray(X, dtype=np.float64)
    lam = lmn_edu.lambdas(n_lambda)
    n, eps = len(X), np.finfo(np.float64).eps
    rtol = flat_rtol(np.float64)
    bound = np.zeros((n, n))
    i, j = np.triu_indices(n, k=1)
    line = X[i][:, None, :] + lam[None, :, None] * (X[j] - X[i])[:, None, :]   # (P, n_lambda, d_in)
    y = np.asarray(f(line.reshape(-1, X.shape[1])), dtype=np.float64).reshape(len(i), n_lambda, -1)
    scale = np.abs(y).max(axis=(1, 2))[:, None]                                # (P, 1)
    std = y.std(axis=1)                                                        # (P, d)
    u = ulps * eps * scale
    with np.errstate(divide="ignore", invalid="ignore"):          # 0/0 where a curve is all zeros: flat, set below
        b = np.minimum(1.0, 4 * u / std)                                       # (P, d)
    b = np.where(std <= 0.5 * rtol * scale, 0.0, b)      # flat for both, noise cannot reach the threshold
    b = np.where(np.abs(std - rtol * scale) <= 2 * u, 1.0, b)   # at the threshold: either decision
    bound[i, j] = bound[j, i] = b.mean(axis=1)                                 # eq (2) averages over k
    return bound


def engine_r_squared(y, lam, rtol=None, ops=None):
    """The engine's r² from sums (engine._tile_r_squared) on whole curves y (P, n_lambda, d),
    laid out as a tile of P rows and one column; the flat-line scale from the endpoints.
    ``ops``: the engine's ops table (default NumPy's); the result is NumPy."""
    from lmn_edu import engine
    from lmn_edu.ops import NUMPY_OPS
    ops = NUMPY_OPS if ops is None else ops
    y = np.asarray(y, dtype=np.float64)
    y_in = np.ascontiguousarray(y[:, 1:-1].transpose(1, 0, 2))[:, :, None, :]   # (m, P, 1, d), λ-major
    y0, y1 = y[:, 0][:, None, :], y[:, -1][:, None, :]                          # (P, 1, d)
    scale = np.maximum(np.abs(y0).max(axis=2), np.abs(y1).max(axis=2))          # (P, 1)
    mix = np.stack([np.ones(len(lam) - 2), lam[1:-1]])
    rtol = flat_rtol(np.float64) if rtol is None else rtol
    t = [ops.asarray(a, np.float64) for a in (y_in, y0, y1, scale, mix)]
    return ops.numpy(engine._tile_r_squared(ops, t[0], t[1], t[2], t[3], lam, t[4], rtol))[:, 0, :]   # (P, d)
