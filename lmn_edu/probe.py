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
"""
import numpy as np

from .errors import LMNInputError, check_choice
from .lmn import CHUNK_FLOATS, lambdas, linear_mapping_number, pair_chunks, r_squared
from .mlp import OUTPUTS, representations, stages

# Layers LMN can be measured from (to the output).
PROBE_LAYERS = ("emb", "z1", "h1", "z2", "h2")


def _compose(fns):
    def f(x):
        for fn in fns:
            x = fn(x)
        return x
    return f


def _tail_stages(params, layer, output):
    check_choice("layer", layer, PROBE_LAYERS)
    check_choice("output", output, OUTPUTS)
    st = stages(params, output)
    names = ["emb"] + [name for name, _, _ in st]
    return st[names.index(layer):]


def tail_function(params, layer, output="logits"):
    """The map from representation ``layer`` to the output, (M, width) -> (M, d_out)."""
    return _compose([fn for _, _, fn in _tail_stages(params, layer, output)])


def _as_float64(params):
    return {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}


def _split_tail(params, layer, output):
    """(prefix, rest): the affine stages right after ``layer``, and the tail from the first nonlinearity."""
    st = _tail_stages(params, layer, output)
    k = next((n for n, (_, kind, _) in enumerate(st) if kind == "nonlinear"), len(st))
    return _compose([fn for _, _, fn in st[:k]]), [fn for _, _, fn in st[k:]]


def fast_connectivity(reps_at_layer, prefix, rest, n_lambda=21):
    """L from representations (N, width) through an affine ``prefix`` and a nonlinear tail ``rest``."""
    lam = lambdas(n_lambda)
    V = np.asarray(prefix(reps_at_layer))                    # (N, d): the space before the first nonlinearity
    n, d = V.shape
    if not rest:                                             # affine tail: every line stays a line
        return np.ones((n, n))
    tail = _compose(rest)
    y_end = np.asarray(tail(V))                              # (N, d_out): λ = 0 and λ = 1, once per point
    inner = lam[1:-1]                                        # (n_lambda - 2,)
    L = np.eye(n)
    for i, j in pair_chunks(n, n_lambda * max(d, y_end.shape[1])):
        vi = V[i]
        line = vi[:, None, :] + inner[None, :, None] * (V[j] - vi)[:, None, :]   # (P, n_lambda-2, d), eq (1)
        y_in = np.asarray(tail(line.reshape(-1, d))).reshape(len(i), len(inner), -1)
        y = np.concatenate([y_end[i][:, None], y_in, y_end[j][:, None]], axis=1)  # (P, n_lambda, d_out)
        L[i, j] = L[j, i] = r_squared(y, lam).mean(axis=1)                       # eq (2)
    return L


def layer_connectivity(params, inputs, layer="h1", output="logits", n_lambda=21):
    """The connectivity matrix L (N, N) from ``layer`` to ``output`` on the token pairs ``inputs``."""
    params = _as_float64(params)
    prefix, rest = _split_tail(params, layer, output)
    return fast_connectivity(representations(params, inputs)[layer], prefix, rest, n_lambda)


def layers_lmn(params, inputs, layers=("h1",), output="logits", n_lambda=21):
    """LMN of several layers at once: dict layer -> LMN (representations computed once)."""
    if isinstance(layers, str) or len(layers) == 0:
        raise LMNInputError(f"layers={layers!r} must be a non-empty list of {PROBE_LAYERS}")
    params = _as_float64(params)
    reps = representations(params, inputs)
    out = {}
    for layer in layers:
        prefix, rest = _split_tail(params, layer, output)
        out[layer] = linear_mapping_number(fast_connectivity(reps[layer], prefix, rest, n_lambda))
    return out


def layer_lmn(params, inputs, layer="h1", output="logits", n_lambda=21):
    """LMN from representation ``layer`` (default h1, the paper's "first hidden layer") to the output."""
    return layers_lmn(params, inputs, (layer,), output, n_lambda)[layer]
