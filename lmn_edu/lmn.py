"""The linear mapping number, eq (1)–(3) of Liu, Zhong & Tegmark (arXiv 2310.05918).

For a map f and points x⁽¹⁾ … x⁽ᴺ⁾:

eq (1)  x⁽ⁱʲ⁾(λ) = x⁽ⁱ⁾ + λ (x⁽ʲ⁾ − x⁽ⁱ⁾),  λ = 0, 0.05, …, 1   (21 points)
eq (2)  L_ij = (1/d₂) Σ_k r²(y_k⁽ⁱʲ⁾(λ), λ),  y = f(x(λ)),  L_ii = 1
eq (3)  p_i = |μ_i| / Σ_j |μ_j|  (μ: eigenvalues of L),  S_NL = −Σ p_i log₂ p_i,  LMN = 2^S_NL

This module is generic: f is any function of a batch of points. ``mlp_lmn.py`` has the
fast path for the layers of our MLP.
"""
import numpy as np

from .errors import LMNInputError, NotFiniteError, check_int

# Pairs evaluated at once are chosen so that the largest array of a chunk holds about
# CHUNK_FLOATS float64 numbers (1 MB), whatever N is: small enough that a chunk's few
# working arrays stay in a core's L2 cache, where elementwise NumPy runs several times
# faster than from main memory; large enough that Python's per-chunk cost stays small.
# (Measured: see docs/benchmarks.md.)
CHUNK_FLOATS = 131_072


def lambdas(n_lambda=21):
    """The λ grid of eq (1): n_lambda uniform points on [0, 1]."""
    n_lambda = check_int("n_lambda", n_lambda, 2)
    return np.linspace(0.0, 1.0, n_lambda)


# A curve whose spread is below FLAT_RTOL × its largest |y| counts as constant (see r_squared).
# One tolerance for every dtype, on every path (generic, fast, torch): float32's own (1e4 ε ≈ 1e-3)
# counted real, small bends as straight and moved LMN by up to 2% in our measurements.
FLAT_RTOL = 1e4 * np.finfo(np.float64).eps


def flat_rtol(dtype=np.float64):
    """The flat-line tolerance; the same for every dtype (see FLAT_RTOL)."""
    return FLAT_RTOL


def r_squared(y, lam, rtol=None):
    """r² of each output dimension against λ: y (P, n_lambda, d) -> (P, d), in float64.

    r² = cov(y, λ)² / (var(y) var(λ)), the squared Pearson correlation (footnote 2).
    A curve that is constant along the line is an affine function of λ, but its r² is
    0/0: we count it as r² = 1 ("flat line" rule). "Constant" means its standard deviation
    is at most ``rtol`` times the largest |y| on the whole curve, so that rounding noise in
    a flat dimension is not mistaken for curvature.
    """
    rtol = FLAT_RTOL if rtol is None else rtol
    y = np.asarray(y, dtype=np.float64)
    lc = lam - lam.mean()                                   # (n_lambda,)
    yc = y - y.mean(axis=1, keepdims=True)                  # (P, n_lambda, d)
    cov = np.einsum("l,pld->pd", lc, yc)                    # (P, d)
    var_y = np.einsum("pld,pld->pd", yc, yc)                # (P, d)
    scale = np.abs(y).max(axis=(1, 2))                      # (P,)
    return r_squared_from_sums(cov, var_y, lc @ lc, scale, len(lam), rtol)


def r_squared_from_sums(cov, var_y, var_l, scale, n, rtol):
    """r² = cov² / (var_y var_l) with the flat-line rule, from the centred sums of r_squared.

    cov, var_y: (P, d) sums Σ(λ−λ̄)(y−ȳ) and Σ(y−ȳ)² over the n points of each curve;
    var_l = Σ(λ−λ̄)²; scale: (P,) the largest |y| on each curve. Shared by r_squared and
    the fast path (mlp_lmn.py), so both apply the same rule.
    """
    flat = var_y <= (rtol * scale[:, None]) ** 2 * n
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = cov ** 2 / (var_y * var_l)
    r2 = np.where(flat, 1.0, r2)
    return np.clip(r2, 0.0, 1.0)


def pair_chunks(n, per_pair_floats, max_floats=None):
    """Yield (i, j) index arrays covering every pair i < j of n points, in bounded chunks.

    Each chunk holds at most max(1, max_floats // per_pair_floats) pairs, in the order of
    ``np.triu_indices(n, 1)``. The indices are made chunk by chunk (pair number k → row i by
    a search over the rows' first pair numbers), so memory is O(chunk + n), not O(n²).
    """
    max_floats = CHUNK_FLOATS if max_floats is None else max_floats
    size = max(1, int(max_floats // max(per_pair_floats, 1)))
    r = np.arange(n)
    first = r * (2 * n - r - 1) // 2                        # (n,) number of the pair (r, r + 1)
    n_pairs = n * (n - 1) // 2
    for start in range(0, n_pairs, size):
        k = np.arange(start, min(start + size, n_pairs))    # (P,) pair numbers
        i = np.searchsorted(first, k, side="right") - 1
        yield i, k - first[i] + i + 1


def _check_points(X):
    X = np.asarray(X)
    if X.ndim != 2:
        raise LMNInputError(f"X must be a 2-D array (N points, d_in), got shape {X.shape}")
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise LMNInputError(f"X must hold at least one point of at least one dimension, got shape {X.shape}")
    if not np.issubdtype(X.dtype, np.number) or not np.all(np.isfinite(X)):
        raise LMNInputError("X must hold finite numbers (found NaN or inf)")
    return X


def connectivity_matrix(f, X, n_lambda=21):
    """The linear connectivity matrix L of eq (2), (N, N), symmetric, unit diagonal.

    f maps a batch (M, d_in) to (M, d_out); X holds the N points (N, d_in).
    Only pairs i < j are evaluated, in chunks, so memory stays bounded.
    """
    X = _check_points(X)
    lam = lambdas(n_lambda)
    n, d_in = X.shape
    L = np.eye(n)
    for i, j in pair_chunks(n, n_lambda * d_in):
        xi, xj = X[i], X[j]                                                      # (P, d_in)
        line = xi[:, None, :] + lam[None, :, None] * (xj - xi)[:, None, :]       # (P, n_lambda, d_in), eq (1)
        y = np.asarray(f(line.reshape(-1, d_in)))                                # (P * n_lambda, d_out)
        if y.ndim != 2 or y.shape[0] != line.shape[0] * n_lambda:
            raise LMNInputError(f"f must map (M, d_in) to (M, d_out); it returned shape {y.shape}")
        if not np.all(np.isfinite(y)):
            raise NotFiniteError("f returned NaN or inf on the interpolated points")
        y = y.reshape(len(i), n_lambda, -1)                                      # (P, n_lambda, d_out)
        L[i, j] = L[j, i] = r_squared(y, lam).mean(axis=1)                       # eq (2)
    return L


def _check_L(L):
    L = np.asarray(L, dtype=np.float64)
    if L.ndim != 2 or L.shape[0] != L.shape[1] or L.shape[0] < 1:
        raise LMNInputError(f"L must be a square matrix, got shape {L.shape}")
    if not np.all(np.isfinite(L)):
        raise NotFiniteError("L must be finite (found NaN or inf)")
    if not np.allclose(L, L.T, rtol=0, atol=1e-12):
        raise LMNInputError("L must be symmetric")
    return L


def spectrum(L):
    """Eigenvalues μ of the symmetric L (ascending) and the distribution p = |μ| / Σ|μ| of eq (3)."""
    mu = np.linalg.eigvalsh(_check_L(L))
    a = np.abs(mu)
    return mu, a / a.sum()


def nonlinear_entropy(L):
    """S_NL of eq (3), in bits: the entropy of the normalised |eigenvalues| of L."""
    _, p = spectrum(L)
    p = p[p > 0]
    return float(-np.sum(p * np.log2(p)))


def linear_mapping_number(L):
    """LMN = 2^S_NL (eq 3): between 1 (one linear map) and N."""
    return float(2.0 ** nonlinear_entropy(L))


def lmn_of(f, X, n_lambda=21):
    """LMN of f on the points X in one call: eq (1)–(3)."""
    return linear_mapping_number(connectivity_matrix(f, X, n_lambda))
