"""The linear mapping number, eq (1)–(3) of Liu, Zhong & Tegmark (arXiv 2310.05918).

For a map f and points x⁽¹⁾ … x⁽ᴺ⁾:

eq (1)  x⁽ⁱʲ⁾(λ) = x⁽ⁱ⁾ + λ (x⁽ʲ⁾ − x⁽ⁱ⁾),  λ = 0, 0.05, …, 1   (21 points)
eq (2)  L_ij = (1/d₂) Σ_k r²(y_k⁽ⁱʲ⁾(λ), λ),  y = f(x(λ)),  L_ii = 1
eq (3)  p_i = |μ_i| / Σ_j |μ_j|  (μ: eigenvalues of L),  S_NL = −Σ p_i log₂ p_i,  LMN = 2^S_NL

The module reads in that order: eq (1), eq (2), eq (3), then the two rules eq (2) needs where
r² is 0/0 (the flat-line rule), then the input checks. It is generic: f is any function of a
batch of points, and it is the plain reference of the definition: ``engine.py`` computes the
same L fast for a tail given as data (the layers of our MLP, torch modules); ``chunking.py``
keeps the pair loop's memory bounded. Points of any real dtype are converted to float64 before
any arithmetic, and r² divides each curve by its own scale, so L is right at any finite scale.
"""
import os

import numpy as np

from .chunking import pair_chunks
from .errors import LMNInputError, NotFiniteError, check_array, check_int, check_real, show


# More λ points than this add nothing measurable and cost time and memory linearly.
MAX_N_LAMBDA = 100_000


# --- eq (1): the line between two points --------------------------------------------------

def lambdas(n_lambda=21):
    """The λ grid of eq (1): n_lambda uniform points on [0, 1].

    At least 3 points: a line through two points fits any curve, so with n_lambda = 2 every
    r² would be 1 and LMN always 1.
    """
    n_lambda = check_int("n_lambda", n_lambda, 1, MAX_N_LAMBDA)
    if n_lambda < 3:
        raise LMNInputError(f"n_lambda={n_lambda} must be at least 3: every r² of a line through two points is 1")
    return np.linspace(0.0, 1.0, n_lambda)


# --- eq (2): how linear f is along each line ------------------------------------------------

def r_squared(y, lam, rtol=None):
    """r² of each output dimension against λ: y (P, n_lambda, d) -> (P, d), in float64.

    r² = cov(y, λ)² / (var(y) var(λ)), the squared Pearson correlation (footnote 2 of the
    paper). A curve that is constant along the line is linear, but its r² is 0/0: it counts
    as r² = 1 (the flat-line rule, see ``flat_rtol``). ``rtol`` defaults to the tolerance of
    y's dtype: the precision of the arithmetic that produced the curve. The curves of a line are
    divided by a power of two near their largest |y| first, so r² is right at any finite scale.
    """
    y, lam = _check_curves(y, lam, rtol)
    rtol = flat_rtol(y.dtype) if rtol is None else rtol
    y = y.astype(np.float64)
    scale = np.abs(y).max(axis=(1, 2))                      # (P,) each line's largest |y|, over all its outputs
    s = pow2_below(scale)                                   # (P,) a power of two: dividing by it is exact
    y /= s[:, None, None]                                   # each curve at scale ~1: no overflow, no underflow
    lc = lam - lam.mean()                                   # (n_lambda,)
    yc = y - y.mean(axis=1, keepdims=True)                  # (P, n_lambda, d)
    cov = np.einsum("l,pld->pd", lc, yc)                    # (P, d)
    var_y = np.einsum("pld,pld->pd", yc, yc)                # (P, d)
    return r_squared_from_sums(cov, var_y, lc @ lc, scale / s, len(lam), rtol)


def connectivity_matrix(f, X, n_lambda=21):
    """The linear connectivity matrix L of eq (2), (N, N), symmetric, unit diagonal.

    f maps a batch (M, d_in) to (M, d_out); X holds the N points (N, d_in). The flat-line
    tolerance follows the dtype f returns (float32 output: float32's tolerance). A line from
    a point to itself (x_i = x_j) is linear by definition: L_ij = 1 whatever f returns on it.
    Only pairs i < j are evaluated, in chunks (chunking.py), so memory stays bounded.
    """
    if not callable(f):
        raise LMNInputError(f"f must be a function of a batch (M, d_in) -> (M, d_out), got {show(f)}")
    X = as_float_points("X", X).astype(np.float64)         # (N, d_in): no wrapping, no rounding of x_j − x_i
    check_spread("X", X)
    lam = lambdas(n_lambda)
    n_lambda = len(lam)                                      # an int, also when given as 21.0
    n, d_in = X.shape
    check_size("X", n * n, "the matrix L (N × N)")
    check_size("n_lambda", 2 * n_lambda * d_in, "one line's points (n_lambda × d_in)")
    L = np.eye(n)
    for i, j in pair_chunks(n, n_lambda * d_in):
        xi, xj = X[i], X[j]                                                      # (P, d_in)
        line = xi[:, None, :] + lam[None, :, None] * (xj - xi)[:, None, :]       # (P, n_lambda, d_in), eq (1)
        y = _check_output(f(line.reshape(-1, d_in)), len(i) * n_lambda)         # (P * n_lambda, d_out)
        y = y.reshape(len(i), n_lambda, -1)                                      # (P, n_lambda, d_out)
        Lij = r_squared(y, lam).mean(axis=1)                                     # (P,), eq (2)
        L[i, j] = L[j, i] = np.where(is_point(xj - xi), 1.0, Lij)
    return L


# --- eq (3): from L to the LMN --------------------------------------------------------------

def _eigen(L):
    """(μ / s, s, p): the eigenvalues of L / s, s a power of two near L's largest |entry| (exact,
    so that neither μ nor Σ|μ| overflows or underflows), and p = |μ| / Σ|μ| of eq (3)."""
    L = _check_L(L)
    s = float(pow2_below(np.abs(L).max()))
    mu = np.linalg.eigvalsh(L / s)
    a = np.abs(mu)
    return mu, s, a / a.sum()


def spectrum(L):
    """Eigenvalues μ of the symmetric L (ascending) and the distribution p = |μ| / Σ|μ| of eq (3).

    Eq (3) is defined for any real symmetric L, not only a connectivity matrix (entries in [0, 1],
    unit diagonal): any such L is taken, at any finite scale.
    """
    mu, s, p = _eigen(L)
    with np.errstate(over="ignore"):                         # checked below
        mu = mu * s
    if not np.all(np.isfinite(mu)):
        raise NotFiniteError("L is too large: its eigenvalues exceed float64's range "
                             "(nonlinear_entropy and linear_mapping_number still take it)")
    return mu, p


def nonlinear_entropy(L):
    """S_NL of eq (3), in bits: the entropy of the normalised |eigenvalues| of L, in [0, log2 N]."""
    _, _, p = _eigen(L)
    n = len(p)
    p = p[p > 0]
    return float(min(max(0.0, -np.sum(p * np.log2(p))), np.log2(n)))   # the bounds, not rounding past them


def linear_mapping_number(L):
    """LMN = 2^S_NL (eq 3): between 1 (one linear map) and N."""
    return float(min(2.0 ** nonlinear_entropy(L), np.shape(L)[0]))


def lmn_of(f, X, n_lambda=21):
    """LMN of f on the points X in one call: eq (1)–(3)."""
    return linear_mapping_number(connectivity_matrix(f, X, n_lambda))


# --- where r² is 0/0: degenerate lines and flat curves --------------------------------------
# Both rules are shared by every path (this reference and the engine), so all apply the same definition.

# A curve whose spread (RMS deviation from its mean) is at most rtol × its line's largest |y|
# (over all the line's output coordinates: one scale per pair) counts as constant: r² = 1. The
# tolerance must sit above the noise of the arithmetic that produced the curve, and below real
# bends. One scale per pair, not per coordinate: a coordinate near 0 by cancellation carries the
# rounding noise of its large terms, which a scale of its own would count as bends; the price is
# that a coordinate 10^12 times smaller than another of the same line counts as flat (a known
# limit: tests/test_misuse_more.py keeps it as a failing case).
# float64: 1e4 ε ≈ 2.2e-12, far above float64 rounding, far below any bend we measure.
FLAT_RTOL = 1e4 * np.finfo(np.float64).eps
# Lower precision: FLAT_ULPS ε of that dtype (float32: 100 × 1.19e-7 ≈ 1.2e-5). Float32 kernels
# need not give bitwise-equal outputs for equal inputs at different batch positions (AMD vs
# Intel), so a flat curve carries noise of a few ulps of its values: 100 ulps sits well above
# that, and a bend of 1e-4 of the curve's size (RMS spread ≈ 3e-5) is still a bend. The old
# float32 tolerance, 1e4 ε ≈ 1.2e-3, counted real, small bends as straight and moved LMN by up
# to 2 %; docs/benchmarks.md compares float32 LMN with float64 on the committed snapshots.
FLAT_ULPS = 100


def flat_rtol(dtype):
    """The flat-line tolerance for curves computed in ``dtype`` (a NumPy dtype or dtype name).

    float64 (and integers, which are exact): FLAT_RTOL. A lower precision: FLAT_ULPS times its
    machine epsilon, never below FLAT_RTOL.
    """
    dtype = np.dtype(dtype)
    if not np.issubdtype(dtype, np.inexact):
        return FLAT_RTOL
    return max(FLAT_RTOL, FLAT_ULPS * float(np.finfo(dtype).eps))


def r_squared_from_sums(cov, var_y, var_l, scale, n, rtol, ops=np):
    """r² = cov² / (var_y var_l) with the flat-line rule, from the centred sums of r_squared.

    cov, var_y: (P, …, d) sums Σ(λ−λ̄)(y−ȳ) and Σ(y−ȳ)² over the n points of each curve;
    var_l = Σ(λ−λ̄)²; scale: (P, …) the largest |y| of each line, over its outputs (the sums and the scale of a
    curve divided by the same number, so that neither overflows); rtol: ``flat_rtol`` of the
    curve's arithmetic. Shared by r_squared and the engine (engine.py, with its ``ops`` table,
    which has ``where`` and ``clip`` as NumPy does).
    """
    flat = var_y <= (rtol * scale[..., None]) ** 2 * n
    r2 = cov ** 2 / (ops.where(flat, 1.0, var_y) * var_l)   # 0/0 where flat: replaced by 1 below
    return ops.clip(ops.where(flat, 1.0, r2), 0.0, 1.0)


def pow2_below(x):
    """2^e with 2^e <= x < 2^(e+1) for x > 0, and 1 where x is 0: a scale that divides exactly."""
    _, e = np.frexp(x)
    return np.where(x > 0, np.ldexp(1.0, e - 1), 1.0)


def is_point(dx):
    """(P,) True where a line's direction x_j − x_i (P, d) is exactly 0: the line is one point.

    Such a line is linear by definition (L_ij = 1), whatever the kernels return on its copies
    of the point: float32 kernels may round the same row differently at another batch position.
    """
    return ~np.any(dx != 0, axis=1)


# --- input checks -----------------------------------------------------------------------------

# Integers up to 2^53 are exact in float64; beyond, two different points could become equal.
_EXACT_INT = 2 ** 53


def as_float_points(name, X):
    """Points (N, d) as float64, before any arithmetic: integer points would wrap in x_j − x_i
    (uint8: 3 − 5 = 254) and float16 points would round the line in float16.

    float32 and float64 stay what they are (float64 holds float32 exactly, and the engine runs
    a tail in its own dtype); other floats, and integers up to 2^53, become float64 if that
    holds them exactly. bool, complex, object and larger integers are refused, naming ``name``.
    """
    X = check_array(name, X, ndim=2, what="(N points, d_in)")
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise LMNInputError(f"{name} must hold at least one point of at least one dimension, got shape {X.shape}")
    if X.dtype.kind in "iu":
        if X.size and (int(X.max()) > _EXACT_INT or int(X.min()) < -_EXACT_INT):
            raise LMNInputError(f"{name} holds integers beyond 2^53, which float64 cannot hold exactly; "
                                "convert them to floats yourself if rounding is acceptable")
        return X.astype(np.float64)
    if not np.all(np.isfinite(X)):
        raise NotFiniteError(f"{name} must hold finite numbers (found NaN or inf)")
    if X.dtype not in (np.float32, np.float64):
        X64 = X.astype(np.float64)
        if not np.array_equal(X64, X):
            raise LMNInputError(f"{name} has dtype {X.dtype}, whose values float64 cannot hold exactly; "
                                "convert them to float64 yourself if rounding is acceptable")
        return X64
    return X


def check_spread(name, X, ops=None):
    """Refuse finite points (N, d) whose coordinates differ by more than the lines' float type holds:
    x_j − x_i of eq (1) would be inf, and the line lost. ``ops``: the engine's table, the lines in
    X's dtype; None: NumPy, the lines in float64."""
    with np.errstate(over="ignore"):                         # an overflow is what is looked for
        if ops is None:
            dtype, wide = "float64", not np.all(np.isfinite(np.max(X, axis=0).astype(np.float64) - np.min(X, axis=0)))
        else:
            dtype, wide = ops.dtype(X).name, not ops.all_finite(ops.subtract(ops.amax(X, 0), ops.amin(X, 0)))
    if wide:
        raise NotFiniteError(f"{name} spans more than {dtype} holds: x_j − x_i of eq (1) overflows to inf "
                             "for some pair")


def available_bytes():
    """Memory this process could still allocate (Linux: MemAvailable; elsewhere: free pages)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None                                          # unknown: no check


def check_size(name, floats, what):
    """Refuse, naming ``name``, an allocation of ``floats`` float64 numbers that exceeds the memory
    available, before it is attempted (a raw MemoryError would name nothing)."""
    need, have = 8 * int(floats), available_bytes()
    if have is not None and need > have:
        raise LMNInputError(f"{name} is too large: {what} needs {need / 2 ** 30:.1f} GiB, "
                            f"more than the {have / 2 ** 30:.1f} GiB of memory available")

def _flat_points(X, name="X"):
    """Points of any shape (N, *input_shape) flattened and checked: ((N, D) array, input_shape).

    Eq (1) acts on each coordinate alone, so a line between two points in their own shape is
    the line between their flattened vectors (for images, models that take (M, C, H, W)).
    """
    X = check_array(name, X)
    if X.ndim < 2:
        raise LMNInputError(f"{name} must be an at least 2-D array (N points, *input_shape), got shape {X.shape}")
    return as_float_points(name, X.reshape(len(X), int(np.prod(X.shape[1:])))), X.shape[1:]


def _check_L(L):
    L = check_array("L", L, ndim=2, what="(N, N)")
    if L.shape[0] != L.shape[1] or L.shape[0] < 1:
        raise LMNInputError(f"L must be a square matrix, got shape {L.shape}")
    L = L.astype(np.float64)
    if not np.all(np.isfinite(L)):
        raise NotFiniteError("L must be finite (found NaN or inf)")
    if not np.allclose(L, L.T, rtol=0, atol=1e-12 * np.abs(L).max()):     # relative: at any scale
        raise LMNInputError("L must be symmetric")
    if not np.any(L):
        raise LMNInputError("L must not be all zeros: its eigenvalues would give no distribution (eq 3)")
    return L


def _check_curves(y, lam, rtol):
    """Arguments of r_squared: y (P, n_lambda, d) and lam (n_lambda,) real and finite, rtol >= 0."""
    y = check_array("y", y, ndim=3, what="(P curves, n_lambda, d)", finite=True)
    lam = check_array("lam", lam, ndim=1, what="(n_lambda,)", finite=True)
    if y.shape[1] != len(lam):
        raise LMNInputError(f"y has {y.shape[1]} points per curve (axis 1) but lam has {len(lam)}")
    if len(lam) < 3 or np.ptp(lam) == 0:
        raise LMNInputError(f"lam must hold at least 3 values, not all equal, got {show(lam)}")
    if y.shape[2] < 1:
        raise LMNInputError(f"y must hold at least one output dimension (axis 2), got shape {y.shape}")
    if rtol is not None:
        check_real("rtol", rtol, ge=0.0)
    lam = lam.astype(np.float64)
    return y, lam / pow2_below(np.abs(lam).max())          # r² does not depend on λ's scale: divided exactly


def _check_output(y, expected_rows):
    """What f returned for a chunk: (expected_rows, d_out) finite real numbers."""
    try:
        y = np.asarray(y)
    except (ValueError, TypeError, RuntimeError):           # RuntimeError: a tensor that requires grad
        raise LMNInputError(f"f must return an array of real numbers (M, d_out), it returned {show(y)}") from None
    if y.dtype.kind not in "iuf":
        raise LMNInputError(f"f must return real numbers, it returned dtype {y.dtype}")
    if y.ndim != 2 or y.shape[0] != expected_rows or y.shape[1] < 1:
        raise LMNInputError(f"f must map (M, d_in) to (M, d_out), d_out >= 1; it returned shape {y.shape}")
    if not np.all(np.isfinite(y)):
        raise NotFiniteError("f returned NaN or inf on the interpolated points")
    return y
