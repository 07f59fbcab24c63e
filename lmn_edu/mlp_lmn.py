"""LMN of a layer of our MLP, from that layer to the output: the fast path, eq (1)–(3).

The generic definition (lmn.connectivity_matrix) interpolates between the representations of
two inputs at ``layer`` and feeds each point through the rest of the network (the *tail*).
Here the tail is described as data (mlp.tail_stages: [("affine", W2, b2), ("silu",), …], built
from the one stage table mlp.STAGES) and handed to the engine (engine.py), which computes the
same L without re-evaluating what it need not:

1. **Affine prefix.** Interpolating along a line and applying an affine map commute, so the
   affine stages at the start of the tail are applied to the N points once, and the line is
   drawn just before the first nonlinearity. Consequences: LMN(emb) = LMN(z1),
   LMN(h1) = LMN(z2), and from h2 the tail to the logits is affine, so L = 1 and LMN(h2) = 1.
2. **Endpoints once**, the **exponentials factored** (e^(−z(λ)) = e^(−(1−λ) z_i) e^(−λ z_j)),
   r² from sums: see engine.py.

Memory: L itself (N² float64), O(N · n_λ · width) for the per-point tables, and a few
cache-sized arrays per tile, whatever the number of pairs.

Precision: float64 throughout by default. ``precision="float32"`` runs the tail (the prefix, the
SiLU and the matrix products) in float32, and keeps the r² sums and the eigenvalues in float64.
The flat-line rule then uses float32's tolerance (lmn.flat_rtol), which sits above float32's
rounding noise on any CPU, and a line from a point to itself is linear by definition, whatever
the kernels return. How close float32 LMN comes to float64 is measured, not guaranteed
(docs/benchmarks.md).
"""
import numpy as np
from autograd.tracer import getval

from .engine import connectivity
from .errors import LMNInputError, check_array, check_choice, show
from .lmn import lambdas, linear_mapping_number
from .mlp import OUTPUTS, PARAM_NAMES, check_inputs, check_params, representations, stages, tail_stages
from .ops import NUMPY_OPS

# Layers LMN can be measured from (to the output).
LMN_LAYERS = ("emb", "z1", "h1", "z2", "h2")

# The dtypes the tail can run in (see "Precision" above).
PRECISIONS = ("float64", "float32")


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
    f = _compose([fn for _, _, fn in _tail_stages(params, layer, output)])
    width = next(st[1].shape[0] for st in tail_stages(params, layer, output) if st[0] == "affine")

    def tail(x):
        v = check_array("x", getval(x))                      # the array inside an autograd box, checked
        if v.shape[-1:] != (width,):                         # (M, width), or one point (width,)
            raise LMNInputError(f"x must have shape (M, {width}), {layer}'s width; got shape {v.shape}")
        return f(v if getval(x) is x else x)                 # a box stays a box, for its gradient
    return tail


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


def _layer_connectivity(params, reps, layer, output, n_lambda, precision):
    """L of eq (2) from ``layer`` to ``output``: the tail as stages, run by the engine."""
    try:
        return connectivity(reps[layer], tail_stages(params, layer, output), n_lambda, ops=NUMPY_OPS, dtype=precision)
    except LMNInputError as e:                               # the arguments are checked: what is left is range
        raise type(e)(f"layer={layer!r}, precision={precision!r} (V: the representation {layer}, stages: the "
                      f"layers after it): {e}") from None


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
