"""Autograd primitives for the training step: functions whose gradient we write ourselves.

autograd differentiates a function by recording every ``autograd.numpy`` call it makes and
running each call's vector-Jacobian product (VJP) backwards. That is exact, but a function
built from many small calls pays for each of them, and some built-in VJPs cost more than the
function itself: the VJP of ``tanh`` evaluates ``cosh``, a second transcendental per element.
A *primitive* is a function that autograd treats as one call, with a VJP we give
(``autograd.extend.primitive`` + ``defvjp``; ``defjvp`` for forward mode). Each VJP here
reuses what the forward pass already computed (its output ``ans``) instead of calling
``exp`` again, and is itself written in ``autograd.numpy``, so gradients of gradients work.

Where the time went before (one full-batch step of the paper's MLP, float64, one thread, on
an AVX2 CPU where NumPy's float64 ``exp`` and ``tanh`` are scalar): the two SiLUs, each a
``tanh`` forward and a ``cosh`` backward, cost about as much as all nine matmuls. See
docs/benchmarks.md for the measured step times.
"""
import autograd.numpy as anp
import numpy as np
from autograd.extend import defjvp, defvjp, primitive


@primitive
def sigmoid(x):
    """σ(x) = 1 / (1 + e^(−x)): one exponential per element, accurate to a few ulps for every x.

    For x < −709 (float32: −88) e^(−x) overflows to inf and σ = 1 / inf = 0, the correctly
    rounded value; the overflow is expected, so it is not warned about.
    """
    e = np.empty(np.shape(x), np.result_type(x, 1.0))       # x's float type (float64 for ints)
    np.negative(x, out=e)                                    # in place from here: a large array
    with np.errstate(over="ignore"):                         # is not allocated four times
        np.exp(e, out=e)
    e += 1.0
    np.reciprocal(e, out=e)
    return e if e.ndim else e[()]


# σ' = σ (1 − σ): the forward's output is all the backward needs, no second exponential.
defvjp(sigmoid, lambda ans, x: lambda g: g * ans * (1.0 - ans))
defjvp(sigmoid, lambda g, ans, x: g * ans * (1.0 - ans))


def silu(x):
    """SiLU(x) = x σ(x). Its gradient, σ + x σ(1 − σ), reuses the forward's σ (the sigmoid's
    output), so the backward pass has no transcendental at all."""
    return x * sigmoid(x)


@primitive
def logsumexp(x, axis=-1, keepdims=False):
    """log Σ exp(x) along ``axis``, as m + log Σ exp(x − m) with m the maximum: no overflow.

    Its gradient is softmax(x) along ``axis`` (the shift m has no share in it: the result
    does not depend on m), computed from the output as exp(x − logsumexp(x)).
    """
    m = np.max(x, axis=axis, keepdims=True)
    out = m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


def _keep(a, axis, keepdims):
    """``a`` with the reduced axis back (length 1), to broadcast against x."""
    return a if keepdims else anp.expand_dims(a, axis)


def _softmax_from(ans, x, axis, keepdims):
    return anp.exp(x - _keep(ans, axis, keepdims))


defvjp(logsumexp, lambda ans, x, axis=-1, keepdims=False:
       lambda g: _keep(g, axis, keepdims) * _softmax_from(ans, x, axis, keepdims))
defjvp(logsumexp, lambda g, ans, x, axis=-1, keepdims=False:
       anp.sum(g * _softmax_from(ans, x, axis, keepdims), axis=axis, keepdims=keepdims))


# --- gathers whose gradients scatter without np.add.at ------------------------------------
# autograd's VJP of fancy indexing, x[idx], scatters g back with np.add.at, which is slow
# (≈ 0.1 ms for the 768 × 32 embedding rows). Each gather below has a scatter twin, and each is
# the other's VJP (both are linear), so gradients of any order work.

@primitive
def take_rows(E, idx):
    """E[idx]: the rows of a table E (V, D) for integer ids idx (N,), as (N, D)."""
    return E[idx]


@primitive
def add_rows(g, idx, n_rows):
    """The table (n_rows, D) whose row v is the sum of the rows g[i] (N, D) with idx[i] = v:
    take_rows's VJP. np.bincount adds the rows in order, as np.add.at would, in float64."""
    d = g.shape[1]
    flat = (idx[:, None] * d + np.arange(d)).ravel()         # (N·D,) positions in the table
    out = np.bincount(flat, weights=g.ravel(), minlength=n_rows * d)
    return out.reshape(n_rows, d).astype(g.dtype, copy=False)


defvjp(take_rows, lambda ans, E, idx: lambda g: add_rows(g, idx, E.shape[0]))
defjvp(take_rows, lambda g, ans, E, idx: take_rows(g, idx))
defvjp(add_rows, lambda ans, g, idx, n_rows: lambda h: take_rows(h, idx))
defjvp(add_rows, lambda h, ans, g, idx, n_rows: add_rows(h, idx, n_rows))


@primitive
def pick(x, idx):
    """x[i, idx[i]] for every row i of x (N, C): one entry per row, e.g. each label's logit."""
    return x[np.arange(len(x)), idx]


@primitive
def place(g, idx, n_cols):
    """The (N, n_cols) array that is g[i] at (i, idx[i]) and 0 elsewhere: pick's VJP. One entry
    per row, so a plain assignment does what np.add.at would."""
    out = np.zeros((len(g), n_cols), dtype=g.dtype)
    out[np.arange(len(g)), idx] = g
    return out


defvjp(pick, lambda ans, x, idx: lambda g: place(g, idx, x.shape[1]))
defjvp(pick, lambda g, ans, x, idx: pick(g, idx))
defvjp(place, lambda ans, g, idx, n_cols: lambda h: pick(h, idx))
defjvp(place, lambda h, ans, g, idx, n_cols: place(h, idx, n_cols))


# --- the affine layer ---------------------------------------------------------------------

@primitive
def affine(x, W, b):
    """x @ W + b: x (..., d_in), W (d_in, d_out), b (d_out,). Its VJP is the three products
    g Wᵀ, xᵀ g and Σ_rows g, called directly (autograd's dot goes through tensordot, and the
    bias's gradient through a generic un-broadcast)."""
    out = np.matmul(x, W)
    out += b
    return out


def _rows(a):
    """a as a matrix (rows, last axis): the batch axes of x and g flattened."""
    return anp.reshape(a, (-1, anp.shape(a)[-1]))


defvjp(affine,
       lambda ans, x, W, b: lambda g: anp.dot(g, anp.transpose(W)),
       lambda ans, x, W, b: lambda g: anp.dot(anp.transpose(_rows(x)), _rows(g)),
       lambda ans, x, W, b: lambda g: anp.sum(_rows(g), axis=0))
defjvp(affine,
       lambda g, ans, x, W, b: anp.dot(g, W),
       lambda g, ans, x, W, b: anp.dot(x, g),
       lambda g, ans, x, W, b: anp.zeros_like(ans) + g)
