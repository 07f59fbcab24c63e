"""One engine for the pair loop of eq (1)–(2): any tail given as data, on NumPy or torch.

For points x_1 … x_N (N, d) and a tail f, a list of stages (below):

eq (1)  x_ij(λ) = (1 − λ) x_i + λ x_j,   λ = 0, 1/(n_λ − 1), …, 1     (= x_i + λ (x_j − x_i))
eq (2)  L_ij = (1/d_out) Σ_k r²(y_k(λ), λ),   y = f(x_ij(λ)),   L_ii = 1

lmn.connectivity_matrix is the plain reference of that definition; this module computes the same
L (to rounding: tests/test_engine.py) for every fast path (mlp_lmn.py, torch_lmn.py, the torch
backend), against an ops table (ops.py: NumPy or torch), so eq (1)–(2) is written once here:

1. **Affine prefix.** Interpolation commutes with an affine map, A x(λ) + b = (1 − λ)(A x_i + b)
   + λ (A x_j + b): the leading affine stages are applied to the N points once, and the lines are
   drawn just before the first nonlinearity. An all-affine tail keeps every line a line: L = 1.
2. **Endpoints once.** λ = 0 and λ = 1 are the points themselves: f runs on them once per point;
   per pair only the m = n_λ − 2 interior points run.
3. **Tiles, λ-major.** Pairs come in tiles of a row block × a column block (chunking.pair_tiles,
   the one chunk rule); a tile's lines are one matrix product, [1, λ] (m, 2) @ [x_i; x_j − x_i],
   into (m, rows, cols, d), and the per-point tables below are read as contiguous blocks, with no
   gather. Tiles are sized by the ops table (ops.chunk_floats: a few MB on a CPU, more on a GPU).
4. **Exponentials factored.** The first nonlinearity sees z(λ) = (1 − λ) z_i + λ z_j, so
   e^(−c z(λ)) = e^(−c (1 − λ) z_i) · e^(−c λ z_j): per-point tables, computed once, and each
   interior point costs a multiply, not an exp (SiLU and sigmoid: c = 1; tanh: c = 2). Guard: a
   point with |z| above half the exponent range (float64: 354, float32: 44, over c) could make a
   factor overflow; tiles holding one take the direct path. Used where it pays (ops.factor_exp:
   NumPy, whose float64 exp is scalar on AVX2 CPUs; torch's fused SiLU is faster than the tables).
5. **r² from sums**, in float64, each curve divided by a power of two near its largest |y|
   (exact, and right at any scale), with the flat-line and point rules of lmn.py
   (lmn.r_squared_from_sums, lmn.flat_rtol, lmn.is_point's rule) applied here, once.

Stages (the tail as data; arrays of the ops' kind)::

    ("affine", W, b)                      x @ W + b, W (d_in, d_out), b (d_out,) or None
    ("silu",) ("sigmoid",) ("tanh",) ("relu",) ("softmax",)   softmax over the last axis
    ("fn", callable)                      any map (M, d) -> (M, d') on the ops' arrays

Precision: the tail runs in ``dtype`` (default: the points' float dtype); r², L and its
eigenvalues are float64, with the flat-line tolerance of the dtype the tail returns.
"""
import math

import numpy as np

from .chunking import Scratch, pair_tiles, tile_shape
from .errors import LMNInputError, NotFiniteError, check_array, show
from .lmn import check_size, check_spread, flat_rtol, lambdas, r_squared_from_sums

KINDS = ("affine", "silu", "sigmoid", "tanh", "relu", "softmax", "fn")

# e^(−c z) is what each of these needs (tanh z = (1 − e^(−2z)) / (1 + e^(−2z))).
FACTORED = {"silu": 1.0, "sigmoid": 1.0, "tanh": 2.0}

# The j-side tables of a column block, (m, cols, d) each, hold at most this many floats;
# more columns are taken block by block (N = 10 000, width 100, 21 λ: three blocks).
TABLE_FLOATS = 2 ** 24


def connectivity(V, stages, n_lambda=21, *, ops, dtype=None):
    """L (N, N) float64 NumPy of eq (2) for the tail ``stages`` on the points V (N, d).

    V and the stages' arrays are of the ops' kind (ops.NUMPY_OPS or ops.torch_ops(device));
    ``dtype`` ("float64", "float32" or None: V's float dtype) is the tail's precision.
    """
    lam = lambdas(n_lambda)
    if not hasattr(ops, "points"):
        raise LMNInputError(f"ops={show(ops)} must be an ops table: ops.NUMPY_OPS or ops.torch_ops(device)")
    V = ops.points("V", V)                                   # (N, d), a float dtype that holds them
    given = dtype
    try:
        dtype = np.dtype(ops.dtype(V) if dtype is None else dtype)
    except (TypeError, ValueError, SyntaxError):             # np.dtype(",") raises a SyntaxError
        dtype = None
    if dtype not in (np.float32, np.float64):
        raise LMNInputError(f"dtype={show(given)} must be 'float64', 'float32' or None")
    with np.errstate(over="ignore"):                         # float64 points beyond float32's range: inf, named
        V = _finite(ops, "V", ops.asarray(V, dtype), dtype)
    stages = check_stages(stages, ops, dtype, V.shape[1])
    k = next((s for s, st in enumerate(stages) if st[0] != "affine"), len(stages))
    for st in stages[:k]:                                    # 1. the affine prefix, on the N points once
        V = _affine(ops, V, st[1], st[2])
    n = V.shape[0]
    if k == len(stages):
        return np.ones((n, n))
    if k:                                                    # the lines are drawn here, after the prefix
        V = _finite(ops, "the affine stages", V, dtype, "the points they map to")
    check_spread("V" if k == 0 else "the points after the affine stages", V, ops)
    return _pair_loop(ops, V, stages[k:], lam)


def _finite(ops, name, x, dtype, what=""):
    """x if it is finite, else NotFiniteError naming it: a value beyond ``dtype``'s range is inf."""
    if not ops.all_finite(x):
        where = f" ({what})" if what else ""
        raise NotFiniteError(f"{name}{where} must be finite in {np.dtype(dtype).name}: found NaN or inf "
                             "(or values beyond its range)")
    return x


def _real(ops, name, x, dtype):
    """x as an array of the ops' kind in ``dtype``: real numbers (NumPy: the rule of
    errors.check_array; a tensor: a float dtype), finite in ``dtype``."""
    if hasattr(x, "is_floating_point"):                     # a tensor
        if not x.is_floating_point():
            raise LMNInputError(f"{name} must hold floating-point numbers, got dtype {x.dtype}")
    else:
        x = _native(check_array(name, x))                    # bool, complex, strings: refused
    try:
        with np.errstate(over="ignore"):                     # beyond float32's range: inf, named below
            x = ops.asarray(x, dtype)
    except (TypeError, RuntimeError):                        # a tensor for the NumPy table
        raise LMNInputError(f"{name} must be an array the {ops.name} ops take, got {show(x)}") from None
    return _finite(ops, name, x, dtype)


def check_stages(stages, ops, dtype, width):
    """The stages as tuples with their arrays in ``dtype`` on the ops' device; shapes must chain.

    W and b hold real numbers, finite in ``dtype`` (NaN weights would otherwise give L = 1 for an
    all-affine tail, complex ones lose their imaginary part)."""
    if not isinstance(stages, (list, tuple)):
        raise LMNInputError(f"stages must be a list of stage tuples such as ('affine', W, b), got {show(stages)}")
    out = []
    for s, st in enumerate(stages):
        if not isinstance(st, tuple) or not st or st[0] not in KINDS:
            raise LMNInputError(f"stages[{s}]={show(st)} must be a tuple whose first item is one of {KINDS}")
        kind = st[0]
        if kind == "affine":
            if len(st) != 3:
                raise LMNInputError(f"stages[{s}] must be ('affine', W, b), got {len(st)} items")
            W = _real(ops, f"stages[{s}]: W", st[1], dtype)
            b = None if st[2] is None else _real(ops, f"stages[{s}]: b", st[2], dtype)
            if W.ndim != 2 or (width is not None and W.shape[0] != width) or W.shape[1] < 1:
                raise LMNInputError(f"stages[{s}]: W has shape {tuple(W.shape)}; it must be ({width}, d_out), "
                                    "d_out >= 1")
            if b is not None and tuple(b.shape) != (W.shape[1],):
                raise LMNInputError(f"stages[{s}]: b has shape {tuple(b.shape)}; it must be ({W.shape[1]},)")
            st, width = ("affine", W, b), W.shape[1]
        elif kind == "fn":
            if len(st) != 2 or not callable(st[1]):
                raise LMNInputError(f"stages[{s}] must be ('fn', callable), got {show(st)}")
            width = None                                     # unknown until it runs
        elif len(st) != 1:
            raise LMNInputError(f"stages[{s}] must be ({kind!r},), got {show(st)}")
        out.append(st)
    return out


# --- the stages, one batch (M, d) at a time ---------------------------------------------------

def _affine(ops, x, W, b, out=None):
    y = ops.matmul(x, W, out=out)
    return y if b is None else ops.add(y, b, out=y)


def _run(ops, stages, x, scratch=None):
    """The stages on a batch x (M, d); may overwrite x. Returns (y, the widest width seen)."""
    widest = x.shape[-1]
    for s, st in enumerate(stages):
        kind = st[0]
        if kind == "affine":
            if x.shape[-1] != st[1].shape[0]:                # after an "fn" stage, whose width was unknown
                raise LMNInputError(f"stages: an affine W of shape {tuple(st[1].shape)} follows a stage that "
                                    f"returns width {x.shape[-1]}")
            out = None if scratch is None else scratch(f"affine{s}", (x.shape[0], st[1].shape[1]), ops.dtype(x))
            x = _affine(ops, x, st[1], st[2], out)
        elif kind == "fn":
            x = _fn_output(ops, st[1](x))
        else:
            x = getattr(ops, kind)(x)
        widest = max(widest, x.shape[-1])
    return x, widest


def _native(a):
    """A NumPy array in the machine's byte order (torch takes no other)."""
    return a if a.dtype.isnative else a.astype(a.dtype.newbyteorder("="))


def _fn_output(ops, y):
    """What an ("fn", f) stage returned, as an array of the ops' kind: (M, d_out) real numbers, d_out >= 1."""
    try:
        y = ops.asarray(_native(y) if isinstance(y, np.ndarray) else y, None)
    except (ValueError, TypeError, RuntimeError):            # RuntimeError: a tensor that requires grad
        raise LMNInputError(f"the map must return an array of real numbers (M, d_out), it returned {show(y)}") from None
    try:
        kind = np.dtype(ops.dtype(y)).kind
    except KeyError:                                         # torch: a dtype other than a float
        kind = None
    if kind is None or kind not in "iuf":
        raise LMNInputError(f"the map must return real numbers (M, d_out), it returned dtype {y.dtype}")
    if y.ndim != 2 or y.shape[1] < 1:
        raise LMNInputError(f"the map must send (M, d_in) to (M, d_out), d_out >= 1; it returned shape "
                            f"{tuple(y.shape)}")
    return y


# --- 4. the first nonlinearity of a tile, from tables ------------------------------------------

def _guard(dtype, c):
    """|z| above which a factor e^(±c w z) (0 <= w <= 1), or a product of two, could overflow."""
    return math.log(float(np.finfo(dtype).max)) / (2.0 * c)


def _side_tables(ops, w, Zc, c, repeat=None):
    """The exponential tables of one side of eq (1), for points Zc (P, d) and weights w (m, 1, 1)
    (1 − λ for the row side, λ for the column side), each (m, P, d):

    e: e^(−c w z);  e1: 1 − e^(−c w z), by expm1, so that tanh stays accurate near 0 (tanh only).
    Zc: the points clipped to the guard (exps stay finite; tiles with a clipped point take the
    direct path). ``repeat``: the row side of a tile, each table repeated along a new axis 2 of that
    length, (m, P, repeat, d), so that a tile's products run over contiguous memory (a broadcast
    axis would cut NumPy's inner loops to d).
    """
    a = ops.multiply(w, Zc[None] * -c)                      # (m, P, d): −c w z
    if c == 2.0:
        t = {"e": ops.exp(a), "e1": ops.negative(ops.expm1(a, out=a), out=a)}
    else:
        t = {"e": ops.exp(a, out=a)}                         # in place: one table's memory
    if repeat is not None:
        t = {k: ops.repeat(v, repeat) for k, v in t.items()}   # (m, P, repeat, d)
    return t


def _line(ops, mix, x_rows, x_cols, ends, z):
    """Eq (1) for every pair of a tile, λ-major, as one matrix product:
    z (m, R, C, d) = [1, λ] (m, 2) @ [x_i; x_j − x_i] (2, R·C·d). x_rows (R, ≥C, d): the row
    block's points repeated along the columns; x_cols (1, C, d); ends: scratch (2, R, C, d).
    A line from a point to itself (x_j − x_i = 0) is that point exactly, in any precision."""
    m, R, C, d = z.shape
    ends[0] = x_rows[:, :C]
    ops.subtract(x_cols, ends[0], out=ends[1])
    ops.matmul(mix, ends.reshape(2, R * C * d), out=z.reshape(m, R * C * d))
    return z


def _factored(ops, kind, ti, tj, cs, z, E, near_0=False):
    """The first nonlinearity of a tile from the tables, into z (m, R, C, d), which holds the lines
    (silu) or is scratch: e^(−c z) = e_i · e_j, a multiply per point. E: scratch of z's shape.

    tanh z = 2 / (1 + e^(−2z)) − 1, to a few ulps of 1; on a tile whose endpoints all have
    |z| <= 1 (``near_0``), where a curve's values may all be small, as (1 − e^(−2z)) / (1 + e^(−2z))
    with 1 − e_i e_j = e1_i + e_i e1_j (no cancellation there), to a few ulps of the values.
    """
    C = z.shape[2]
    ei = ti["e"][:, :, :C]                                   # (m, R, C, d)
    if kind == "tanh" and near_0:
        num = ops.multiply(ei, tj["e1"][:, None, cs], out=E)
        ops.add(num, ti["e1"][:, :, :C], out=num)
        return ops.divide(num, ops.subtract(2.0, num, out=z), out=z)
    ops.multiply(ei, tj["e"][:, None, cs], out=E)
    ops.add(E, 1.0, out=E)                                   # 1 + e^(−c z)
    if kind == "sigmoid":
        return ops.divide(1.0, E, out=z)
    if kind == "tanh":
        return ops.subtract(ops.divide(2.0, E, out=z), 1.0, out=z)
    return ops.divide(z, E, out=z)                           # silu: z / (1 + e^(−z))


# --- 5. r² of a tile's curves, from sums --------------------------------------------------------

def _tile_r_squared(ops, y, y0, y1, scale, lam, mix, rtol):
    """r² (R, C, k) of eq (2) for curves with interior y (m, R, C, k) (float64,
    overwritten), endpoints y0 (R, 1, k), y1 (1, C, k) and ``scale`` (R, C), each line's largest |y|
    over its outputs at its endpoints: the flat-line rule's scale. lmn.r_squared takes the largest
    over all the line's points; the two differ only where some output of the line peaks between
    the endpoints far above its ends, which moves the flat-line threshold of the line's other
    outputs by that factor (a known difference, kept: the interior maximum would cost one more
    pass over every tile's outputs).

    The value of lmn.r_squared on the whole curve, from sums: each curve is shifted to start at 0
    (z = y − y0, which keeps the sums accurate) and divided by s, the power of two at or below its
    scale and at least 2^-1022, so that 1 / s stays finite for subnormal outputs (exact, so the
    sums neither overflow nor underflow at any scale; at moderate scales the sums are divided
    instead, one pass less). With the interior plus λ = 1 (at λ = 0, z = 0):
    var = Σz² − (Σz)²/n, cov = Σλz − λ̄ Σz. mix (2, m): the rows 1 and λ of the interior, so that
    Σz and Σλz are one matrix product. A curve may leave its endpoints' scale far behind (sums
    not finite, by a factor of 2^250 and more) would make L NaN: NotFiniteError.
    """
    m, R, C, k = y.shape
    n = m + 2
    p = ops.clip(ops.pow2_below(scale), 2.0 ** -1022, None)            # (R, C); subnormal curves: 2^-1022,
    inv = ops.divide(1.0, p)[..., None]                                # (R, C, 1): 1 / s, exact (and finite)
    z = ops.subtract(y, y0, out=y)                                     # (m, R, C, k)
    extreme = not (ops.amax(p, None) < 2.0 ** 250 and ops.amin(p, None) > 2.0 ** -250)
    if extreme:                                                        # divide each curve before the sums
        ops.multiply(z, inv, out=z)
    s1, sl = ops.matmul(mix, z.reshape(m, R * C * k)).reshape(2, R, C, k)   # Σz, Σλz over the interior
    s2 = ops.sum_squares(z.reshape(m, R * C * k)).reshape(R, C, k)    # Σz² over the interior
    if not extreme:                                                    # the sums of z / s
        s1, sl, s2 = ops.multiply(s1, inv), ops.multiply(sl, inv), ops.multiply(s2, ops.multiply(inv, inv))
    dz = ops.multiply(ops.subtract(y1, y0), inv)                       # (R, C, k): z / s at λ = 1
    s1 = ops.add(s1, dz)
    sl = ops.add(sl, ops.multiply(dz, float(lam[-1])))
    s2 = ops.add(s2, ops.multiply(dz, dz))
    lc = lam - lam.mean()
    cov = ops.subtract(sl, ops.multiply(s1, float(lam.mean())))
    var = ops.subtract(s2, ops.divide(ops.multiply(s1, s1), float(n)))
    return r_squared_from_sums(cov, var, float(lc @ lc), ops.divide(scale, p), n, rtol, ops)   # (R, C, k)


# --- the pair loop ----------------------------------------------------------------------------

def _pair_loop(ops, V, rest, lam):
    """L for lines drawn between the rows of V (N, d) and mapped by the stages ``rest``, which
    start with a nonlinearity."""
    n, d = V.shape
    dtype = ops.dtype(V)
    y_end, widest = _run(ops, rest, V * 1)                   # (N, d_out): λ = 0 and 1, once per point (on a copy)
    if y_end.ndim != 2 or y_end.shape[0] != n:
        raise LMNInputError(f"the map must send (M, d_in) to (M, d_out); it returned shape {tuple(y_end.shape)}")
    rtol = flat_rtol(ops.dtype(y_end))                       # the precision the tail computed in
    y_end = ops.asarray(y_end, np.float64)                   # (N, d_out) float64
    m, d_out = len(lam) - 2, y_end.shape[1]
    per_pair = m * max(widest, 2)                            # the largest array of a tile, per pair
    check_size("X", n * n, "the matrix L (N × N)")
    check_size("n_lambda", per_pair, "one line's interior points (n_lambda × width)")
    kind, later = rest[0][0], rest[1:]
    c = FACTORED.get(kind) if ops.factor_exp else None
    inner = lam[1:-1]
    w_i = ops.asarray((1.0 - inner)[:, None, None], dtype)  # (m, 1, 1): the weight of x_i in z(λ)
    w_j = ops.asarray(inner[:, None, None], dtype)           # (m, 1, 1): the weight of x_j
    line_mix = ops.asarray(np.stack([np.ones(m), inner], axis=1), dtype)   # (m, 2): eq (1) as 1 · x_i + λ (x_j − x_i)
    wild = near_0 = np.zeros(n, bool)
    if c is not None:                                        # 4. the overflow guard
        H = _guard(dtype, c)
        size = ops.numpy(ops.amax(ops.abs(V), 1))           # (N,) each point's largest |z|
        wild, near_0 = size > H, size <= 1.0                 # factors could overflow; tanh's accurate form
        Vc = ops.clip(V, -H, H)
    mix = ops.asarray(np.stack([np.ones(m), inner]), np.float64)    # (2, m)
    owned = rest[-1][0] != "fn"                              # the last stage writes into our scratch
    top = ops.amax(ops.abs(y_end), 1)                        # (N,) each endpoint's largest |y|
    y_shift = y_end                                          # what z = y − y0 subtracts
    if rest[-1][0] == "affine" and rest[-1][2] is not None:  # its bias cancels in y − y0: skip it per pair
        y_shift = ops.subtract(y_end, ops.asarray(rest[-1][2], np.float64))
        rest = rest[:-1] + [("affine", rest[-1][1], None)]
        later = rest[1:]
    same = np.unique(ops.numpy(V), axis=0, return_inverse=True)[1].reshape(n)   # (N,) equal points, equal ids
    scratch = Scratch(ops.empty)
    L = np.eye(n)
    cols_per_block = max(1, TABLE_FLOATS // (2 * m * d))
    _, width = tile_shape(per_pair, ops.chunk_floats, n)
    for lo in range(1, n, cols_per_block):                   # a column block's j-side tables, once
        hi = min(lo + cols_per_block, n)
        tj = _side_tables(ops, w_j, Vc[lo:hi], c) if c is not None else None   # (m, J, d) each
        at = None
        for r0, r1, c0, c1 in pair_tiles(n, per_pair, ops.chunk_floats, (lo, hi)):
            if at != r0:                                     # a row block's i-side tables, once per block
                at = r0
                ti = _side_tables(ops, w_i, Vc[r0:r1], c, width) if c is not None else None
                x_rows = ops.repeat(V[None, r0:r1], width)[0]         # (R, width, d): contiguous rows
                y0_rows = ops.repeat(y_shift[None, r0:r1], width)[0]  # (R, width, d_out)
            R, C, cs = r1 - r0, c1 - c0, slice(c0 - lo, c1 - lo)
            z = scratch("z", (m, R, C, d), dtype)
            factored = c is not None and not (wild[r0:r1].any() or wild[c0:c1].any())
            if kind == "silu" or not factored:
                _line(ops, line_mix, x_rows, V[None, c0:c1], scratch("ends", (2, R, C, d), dtype), z)
            if factored:                                     # 4. the first nonlinearity from the tables
                _factored(ops, kind, ti, tj, cs, z, scratch("E", (m, R, C, d), dtype),
                          near_0[r0:r1].all() and near_0[c0:c1].all())
                x, _ = _run(ops, later, z.reshape(m * R * C, d), scratch)
            else:                                            # the direct path: the stages on the lines
                x, _ = _run(ops, rest, z.reshape(m * R * C, d), scratch)
            if tuple(x.shape) != (m * R * C, d_out):
                raise LMNInputError(f"the map must send (M, d_in) to (M, {d_out}); it returned shape {tuple(x.shape)}")
            y = scratch("y", x.shape, np.float64) if (not owned or ops.dtype(x) != np.float64) else x
            if y is not x:                                   # r² overwrites y: a float64 copy of what is not ours
                y[...] = x
            y = y.reshape(m, R, C, d_out)
            y0, y1 = y0_rows[:, :C], y_shift[None, c0:c1]
            scale = ops.maximum(top[r0:r1, None], top[None, c0:c1])       # (R, C)
            r2 = _tile_r_squared(ops, y, y0, y1, scale, lam, mix, rtol)     # (R, C, d_out)
            Lt = ops.multiply(ops.sum(r2, 2), 1.0 / d_out)                # (R, C): eq (2)

            Lt = ops.numpy(Lt)
            Lt[same[r0:r1, None] == same[None, c0:c1]] = 1.0            # x_i = x_j: one point, linear by definition
            if c0 >= r1:                                     # every (i, j) of the tile is a pair i < j
                L[r0:r1, c0:c1], L[c0:c1, r0:r1] = Lt, Lt.T
            else:                                            # a tile on the diagonal: only its i < j
                pair = np.arange(c0, c1)[None, :] > np.arange(r0, r1)[:, None]   # (R, C)
                np.copyto(L[r0:r1, c0:c1], Lt, where=pair)
                np.copyto(L[c0:c1, r0:r1], Lt.T, where=pair.T)
    if not np.all(np.isfinite(L)):
        raise NotFiniteError("the map returned NaN or inf on the interpolated points, or values 2^250 times "
                             "its endpoints' or more (the r² sums overflow)")
    return L
