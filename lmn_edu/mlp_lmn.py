"""LMN of a layer of our MLP, from that layer to the output: the fast path.

The generic definition (lmn.py) interpolates between the representations of two inputs at
``layer`` and feeds each point through the rest of the network (the *tail*). Two facts make
that cheaper without changing the answer:

1. **Affine prefix.** Interpolating along a line and applying an affine map commute:
   A(x_i + λ(x_j − x_i)) + b = y_i + λ(y_j − y_i) with y = Ax + b. So the affine stages at
   the start of the tail can be applied to the N endpoints once, and the line drawn just
   before the first nonlinearity. Consequences: LMN(emb) = LMN(z1), LMN(h1) = LMN(z2),
   and from h2 the tail to the logits is affine, so L = 1 and LMN(h2) = 1 exactly.
2. **Endpoints.** λ = 0 and λ = 1 are the points themselves: their outputs are computed
   once per point, not once per pair; only the interior λ values are computed per pair.

Only pairs i < j are evaluated (L is symmetric), in chunks of bounded size.

How the pair loop is written, for speed (the values stay those of eq (1)–(2); tests check
that against lmn.connectivity_matrix):

- A chunk's interior points are stored λ-major, (n_lambda − 2, P, d), so that eq (1),
  x(λ) = 1 · x_i + λ · (x_j − x_i), draws every line of the chunk in one matrix product.
- Chunks are small (chunking.CHUNK_FLOATS) so that their arrays stay in the CPU cache, and every
  chunk reuses the same scratch arrays: a fresh multi-megabyte array per step costs page
  faults that measured slower than the arithmetic itself.
- r² comes from sums over λ (see _line_r_squared), so the endpoints are added to the sums
  and the full (P, n_lambda, d_out) curve is never assembled.

Memory: L itself (N² float64), O(N) for the points' representations, and a few scratch
arrays of at most chunking.CHUNK_FLOATS float64 each, whatever the number of pairs
(docs/benchmarks.md gives the bound and the measured peak).

Precision: float64 throughout by default. ``precision="float32"`` draws the lines and runs
the tail (SiLU and the matrix products) in float32, and keeps the endpoints' representations,
the r² sums and the eigenvalues in float64. The flat-line rule then uses float32's tolerance
(lmn.flat_rtol), which sits above float32's rounding noise on any CPU, and a line from a point
to itself is linear by definition, whatever the kernels return. How close float32 LMN comes to
float64 is measured, not guaranteed (docs/benchmarks.md).
"""
import numpy as np

from .errors import LMNInputError, check_choice, show
from .chunking import Scratch, pair_chunks
from .lmn import flat_rtol, is_point, lambdas, linear_mapping_number, r_squared_from_sums
from .mlp import OUTPUTS, PARAM_NAMES, check_inputs, check_params, representations, silu, softmax, stages

# Layers LMN can be measured from (to the output).
LMN_LAYERS = ("emb", "z1", "h1", "z2", "h2")

# The dtypes the tail can run in (see "Precision" above).
PRECISIONS = ("float64", "float32")

# The weights of each affine stage of mlp.stages (x @ W + b), so that the pair loop can
# write its products into reused arrays.
_AFFINE_PARAMS = {"z1": ("W1", "b1"), "z2": ("W2", "b2"), "logits": ("W3", "b3")}


def _compose(fns):
    def f(x):
        for fn in fns:
            x = fn(x)
        return x
    return f


def _tail_stages(params, layer, output):
    check_choice("layer", layer, LMN_LAYERS)
    check_choice("output", output, OUTPUTS)
    st = stages(params, output)
    names = ["emb"] + [name for name, _, _ in st]
    return st[names.index(layer):]


def tail_function(params, layer, output="logits"):
    """The map from representation ``layer`` to the output, (M, width) -> (M, d_out)."""
    check_params(params, finite=True)
    return _compose([fn for _, _, fn in _tail_stages(params, layer, output)])


def _check_args(params, inputs, layers, output, n_lambda, precision):
    """Every argument of the public functions below, checked once per call before any work."""
    vocab_size, _ = check_params(params, finite=True)
    check_inputs(inputs, vocab_size, min_pairs=1)
    if not isinstance(layers, (list, tuple)) or len(layers) == 0:
        raise LMNInputError(f"layers={show(layers)} must be a non-empty list of {LMN_LAYERS}")
    for layer in layers:
        check_choice("layer", layer, LMN_LAYERS)
    check_choice("output", output, OUTPUTS)
    lambdas(n_lambda)
    check_choice("precision", precision, PRECISIONS)


def _as_float64(params):
    return {k: np.asarray(params[k], dtype=np.float64) for k in PARAM_NAMES}


def split_tail(layer, output="logits"):
    """Stage names after ``layer``: (the affine prefix, the rest from the first nonlinearity on).

    The prefix is applied to the N points once; lines are drawn after it (fact 1 above). Both
    backends split the tail here, from the kinds that mlp.stages declares.
    """
    st = _tail_stages({}, layer, output)                     # names and kinds only: no params needed
    k = next((n for n, (_, kind, _) in enumerate(st) if kind == "nonlinear"), len(st))
    return [name for name, _, _ in st[:k]], [name for name, _, _ in st[k:]]


def _split_tail(params, layer, output):
    """(prefix, rest): the affine stages right after ``layer`` as one function, and the
    stages (name, kind, fn) of the tail from the first nonlinearity on."""
    prefix, _ = split_tail(layer, output)
    st = _tail_stages(params, layer, output)
    return _compose([fn for _, _, fn in st[:len(prefix)]]), st[len(prefix):]


# --- the pair loop's steps -------------------------------------------------------------
# A step maps a batch (M, width) to the next stage, step(x, scratch) -> array, in x's dtype.
# It may overwrite x (always a scratch array of the loop) and writes its result into scratch.

def _affine_step(name, W, b):
    def step(x, scratch):                                    # (M, d_in) -> (M, d_out)
        out = np.matmul(x, W, out=scratch(name, (len(x), W.shape[1]), x.dtype))
        out += b
        return out
    return step


def _silu_step(x, scratch):
    """x ← SiLU(x) = x / (1 + e^(−x)), in place: the values of mlp.silu, in four passes."""
    e = scratch("silu", x.shape, x.dtype)
    np.negative(x, out=e)
    with np.errstate(over="ignore"):                         # e^(−x) = inf for x < −709 (float32: −88): x / inf = −0
        np.exp(e, out=e)
    e += 1.0
    return np.divide(x, e, out=x)


def _softmax_step(x, scratch):
    """x ← softmax of each row, in place (the values of mlp.softmax)."""
    x -= x.max(axis=1, keepdims=True)
    np.exp(x, out=x)
    x /= x.sum(axis=1, keepdims=True)
    return x


def _call_step(fn):
    """Any function of a batch; it allocates its own output."""
    return lambda x, scratch: np.asarray(fn(x))


def _step(params, name, kind, fn):
    """The loop's step for one stage of mlp.stages."""
    if kind == "affine" and name in _AFFINE_PARAMS:
        W, b = (params[k] for k in _AFFINE_PARAMS[name])
        return _affine_step(name, W, b)
    if fn is silu:
        return _silu_step
    if fn is softmax:
        return _softmax_step
    return _call_step(fn)


def _run(steps, x, scratch):
    for step in steps:
        x = step(x, scratch)
    return x


# --- L ---------------------------------------------------------------------------------

def _line_r_squared(y0, y_in, y1, lam, rtol=None):
    """r² (P, d) of eq (2) for curves given as endpoints y0, y1 (P, d) and interior y_in (m, P, d).

    The value of lmn.r_squared on the whole curve (P, n_lambda, d), from sums: with
    z = y − y0 (each curve shifted to start at 0, which keeps the sums accurate),
    var(y) = Σz² − (Σz)²/n and cov(y, λ) = Σλz − λ̄ Σz, where the sums run over the interior
    plus the endpoint λ = 1, z = y1 − y0 (at λ = 0, z = 0). ``rtol``: the flat-line tolerance
    of the arithmetic that produced the curves (default: float64's). Overwrites y_in.
    """
    m, p, d = y_in.shape
    n = m + 2
    top = np.maximum(y_in.max(axis=0, initial=-np.inf), np.maximum(y0, y1))   # (P, d) highest y on each curve
    low = np.minimum(y_in.min(axis=0, initial=np.inf), np.minimum(y0, y1))    # (P, d) lowest
    scale = np.maximum(top, -low).max(axis=1)                           # (P,) largest |y| on the curve
    z = y_in.reshape(m, p * d)
    z -= y0.reshape(1, p * d)                                           # (m, P*d)
    dz = y1 - y0                                                        # (P, d): z at λ = 1
    s1, sl = (np.stack([np.ones(m), lam[1:-1]]) @ z).reshape(2, p, d)   # Σz, Σλz over the interior
    z *= z
    s2 = z.sum(axis=0).reshape(p, d) + dz * dz                          # Σz², endpoint included
    s1 += dz
    sl += lam[-1] * dz
    lc = lam - lam.mean()
    rtol = flat_rtol(np.float64) if rtol is None else rtol
    return r_squared_from_sums(sl - lam.mean() * s1, s2 - s1 * s1 / n, lc @ lc, scale, n, rtol)


def _connectivity(V, steps, n_lambda, dtype=np.float64):
    """L (N, N) for lines drawn between the rows of V (N, d) and mapped by ``steps``.

    The lines and the steps run in ``dtype``; r² (eq (2)) and L are float64, with the flat-line
    tolerance of the dtype the steps return. A line whose ends are equal in ``dtype`` is one
    point: L_ij = 1 (lmn.is_point).
    """
    lam = lambdas(n_lambda)
    n, d = V.shape
    if not steps:                                            # affine tail: every line stays a line
        return np.ones((n, n))
    V = V.astype(dtype)                                      # (N, d) in the tail's dtype
    y_end = _run(steps, V.copy(), Scratch())                 # on a copy, as steps write in place
    rtol = flat_rtol(y_end.dtype)                            # the precision the tail computed in
    y_end = np.asarray(y_end, dtype=np.float64)              # (N, d_out): λ = 0 and 1, once per point
    inner = lam[1:-1]                                        # (m,), m = n_lambda - 2
    m, d_out = len(inner), y_end.shape[1]
    mix = np.stack([np.ones(m), inner], axis=1).astype(dtype)   # (m, 2): eq (1) is 1 · x_i + λ · (x_j − x_i)
    scratch = Scratch()
    L = np.eye(n)
    for i, j in pair_chunks(n, max(m, 2) * max(d, d_out)):        # the largest scratch array of a chunk
        p = len(i)
        ends = scratch("ends", (2, p, d), dtype)             # (2, P, d): x_i and x_j − x_i of each pair
        np.take(V, i, axis=0, out=ends[0])
        np.take(V, j, axis=0, out=ends[1])
        ends[1] -= ends[0]                                   # exactly 0 when x_i = x_j: the line is a point
        point = is_point(ends[1])                            # (P,)
        line = np.matmul(mix, ends.reshape(2, p * d), out=scratch("line", (m, p * d), dtype))   # eq (1)
        y_in = _run(steps, line.reshape(m * p, d), scratch)                         # (m*P, d_out)
        y_in = scratch.as_float64("y", y_in).reshape(m, p, d_out)                   # (m, P, d_out)
        Lij = _line_r_squared(y_end[i], y_in, y_end[j], lam, rtol).mean(axis=1)      # (P,), eq (2)
        L[i, j] = L[j, i] = np.where(point, 1.0, Lij)
    return L


def _layer_connectivity(params, reps, layer, output, n_lambda, precision):
    prefix, rest = _split_tail(params, layer, output)
    V = np.asarray(prefix(reps[layer]), dtype=np.float64)    # (N, d)
    dtype = np.dtype(check_choice("precision", precision, PRECISIONS))
    tail_params = {k: v.astype(dtype) for k, v in params.items()}
    return _connectivity(V, [_step(tail_params, *stage) for stage in rest], n_lambda, dtype)


def layer_connectivity(params, inputs, layer="h1", output="logits", n_lambda=21, *, precision="float64"):
    """The connectivity matrix L (N, N) from ``layer`` to ``output`` on the token pairs ``inputs``."""
    _check_args(params, inputs, (layer,), output, n_lambda, precision)
    params = _as_float64(params)
    return _layer_connectivity(params, representations(params, inputs), layer, output, n_lambda, precision)


def layers_lmn(params, inputs, layers=("h1",), output="logits", n_lambda=21, *, precision="float64"):
    """LMN of several layers at once: dict layer -> LMN (representations computed once)."""
    _check_args(params, inputs, layers, output, n_lambda, precision)
    params = _as_float64(params)
    reps = representations(params, inputs)
    return {layer: linear_mapping_number(_layer_connectivity(params, reps, layer, output, n_lambda, precision))
            for layer in layers}


def layer_lmn(params, inputs, layer="h1", output="logits", n_lambda=21, *, precision="float64"):
    """LMN from representation ``layer`` (default h1, the paper's "first hidden layer") to the output.

    ``precision``: "float64" (default) or "float32" for the tail (see the module's notes).
    """
    return layers_lmn(params, inputs, (layer,), output, n_lambda, precision=precision)[layer]
