"""The one-layer transformer of Nanda et al. (ICLR 2023) as pure functions of a params dict.

    tokens (a, b, =) ─ W_E + W_pos ─▶ emb (3, d) ─ attention from "=" (+ residual) ─▶ attn (d)
        ─ MLP, ReLU (+ residual) ─▶ mlp (d) ─ W_U ─▶ logits (n_classes)

"Progress measures for grokking via mechanistic interpretability" (Nanda, Chan, Lieberum, Smith,
Steinhardt, ICLR 2023) trains this network on a + b mod 113: d_model 128, 4 heads of 32, d_mlp 512,
ReLU, no LayerNorm, no unembedding bias, the logits read at the last position ("=").

**Attention from "=" only.** Nanda's model applies a causal mask and computes every position, but
the loss reads the logits at "=" only, and with one layer nothing at positions 0 and 1 after the
attention can reach them: the "=" query attends to all three positions (the causal mask hides
nothing from the last row), and the MLP and the unembedding act on each position separately. So
computing the attention for the "=" query alone, and the MLP and unembedding at "=" alone, gives
exactly the logits of Nanda's model, for a third of the cost. That is what we do.

**Params** (plain data, ``x @ W``): ``W_E`` (V + 1, d) with the last row the "=" token,
``W_pos`` (3, d), ``W_Q``, ``W_K``, ``W_V`` (d, H·d_head) with head h in columns h·d_head …,
``W_O`` (H·d_head, d), ``W_in`` (d, d_mlp), ``b_in`` (d_mlp,), ``W_out`` (d_mlp, d), ``b_out`` (d,),
``W_U`` (d, n_classes). Nanda's ``W_U`` also has a column for "="; ours maps to the task's classes.

**Init** as Nanda's code: every matrix N(0, 1/d_model) (``randn / √d_model``), except ``W_U``:
N(0, 1/(V + 1)) (his ``randn / √d_vocab``); the biases 0.

**Named representations** (the points LMN is measured from, each flattened to (N, width)):
``emb`` the residual stream after token + position embedding, all three positions, (N, 3·d);
``attn`` the residual stream at "=" after the attention, (N, d); ``mlp`` the residual stream at
"=" after the MLP, (N, d); ``logits`` (N, n_classes). Positions 0 and 1 after the attention are
not part of ``attn``: they never reach the logits (see docs/transformer.md).
"""
import autograd.numpy as anp
import numpy as np
from autograd.tracer import getval

from .errors import LMNInputError, check_array, check_choice, check_int, check_mapping, check_rng, show
from .mlp import check_inputs, softmax

PARAM_NAMES = ("W_E", "W_pos", "W_Q", "W_K", "W_V", "W_O", "W_in", "b_in", "W_out", "b_out", "W_U")
LAYERS = ("emb", "attn", "mlp", "logits")
LMN_LAYERS = ("emb", "attn", "mlp")
N_CTX = 3                                         # a, b, "="

# Nanda et al.'s configuration (their Config): the GPU setting.
NANDA = dict(modulus=113, d_model=128, n_heads=4, d_mlp=512, lr=1e-3, weight_decay=1.0, beta2=0.98,
             train_frac=0.3)


def init_params(rng, vocab_size, n_classes, d_model=128, n_heads=4, d_mlp=512, dtype=np.float64):
    """Nanda's init: N(0, 1/d_model) matrices, W_U N(0, 1/(vocab_size + 1)), zero biases.

    ``vocab_size`` counts the task's symbols; the "=" token is added as row ``vocab_size`` of W_E.
    """
    check_rng("rng", rng)
    V, C = check_int("vocab_size", vocab_size, 1), check_int("n_classes", n_classes, 1)
    d, H, m = check_int("d_model", d_model, 1), check_int("n_heads", n_heads, 1), check_int("d_mlp", d_mlp, 1)
    if d % H:
        raise LMNInputError(f"d_model={d} must be a multiple of n_heads={H} (each head has d_model / n_heads)")
    if np.dtype(dtype).kind != "f":
        raise LMNInputError(f"dtype={show(dtype)} must be a floating-point type such as np.float64")

    def normal(shape, fan):
        return rng.standard_normal(shape) / np.sqrt(fan)

    params = dict(W_E=normal((V + 1, d), d), W_pos=normal((N_CTX, d), d),
                  W_Q=normal((d, d), d), W_K=normal((d, d), d), W_V=normal((d, d), d), W_O=normal((d, d), d),
                  W_in=normal((d, m), d), b_in=np.zeros(m), W_out=normal((m, d), d), b_out=np.zeros(d),
                  W_U=normal((d, C), V + 1))
    return {k: v.astype(dtype) for k, v in params.items()}


def shape_of(params):
    """(vocab_size, d_model, d_mlp, n_classes) of a params dict, checked: the arrays of
    PARAM_NAMES, floating-point, with shapes that chain. Works on autograd's boxed values."""
    params = getval(params)
    check_mapping("params", params, f"a dict of arrays {', '.join(PARAM_NAMES)}")
    missing = [k for k in PARAM_NAMES if k not in params]
    if missing:
        raise LMNInputError(f"params is missing {', '.join(missing)}; a transformer needs {', '.join(PARAM_NAMES)}")
    p = {k: check_array(f"params[{k!r}]", getval(params[k]), kind="float", ndim=1 if k[0] == "b" else 2)
         for k in PARAM_NAMES}
    V1, d = p["W_E"].shape
    m, C = p["W_in"].shape[1], p["W_U"].shape[1]
    want = {"W_pos": (N_CTX, d), "W_Q": (d, d), "W_K": (d, d), "W_V": (d, d), "W_O": (d, d),
            "W_in": (d, m), "b_in": (m,), "W_out": (m, d), "b_out": (d,), "W_U": (d, C)}
    for k, shape in want.items():
        if p[k].shape != shape:
            raise LMNInputError(f"params[{k!r}] has shape {p[k].shape}; with W_E {p['W_E'].shape} it must be {shape}")
    return V1 - 1, d, m, C


def sequences(params, inputs):
    """Token pairs (N, 2) -> the sequences (N, 3) "a b =", "=" being token id vocab_size."""
    V = shape_of(params)[0]
    inputs = check_inputs(inputs, V)
    return np.concatenate([inputs, np.full((len(inputs), 1), V, dtype=inputs.dtype)], axis=1)


def embed(params, inputs):
    """The residual stream after embedding: token + position, (N, 3, d)."""
    return params["W_E"][sequences(params, inputs)] + params["W_pos"]


def attention(params, x, n_heads):
    """The attention output at "=": x (M, 3, d) -> (M, d), H heads attending from the last position.

    Scores q·k / √d_head over the three positions, softmax, the values mixed, heads concatenated,
    then W_O. The scores are quadratic in x: attention is not affine in its input.
    """
    M, T, d = x.shape
    dh = d // n_heads
    q = anp.dot(x[:, -1], params["W_Q"]).reshape(M, 1, n_heads, dh)        # (M, 1, H, dh): "=" only
    k = anp.dot(x, params["W_K"]).reshape(M, T, n_heads, dh)               # (M, T, H, dh)
    v = anp.dot(x, params["W_V"]).reshape(M, T, n_heads, dh)
    scores = anp.sum(q * k, axis=3) / np.sqrt(dh)                          # (M, T, H)
    scores = scores - anp.max(scores, axis=1, keepdims=True)              # softmax over positions
    a = anp.exp(scores)
    a = a / anp.sum(a, axis=1, keepdims=True)                              # (M, T, H)
    z = anp.sum(a[:, :, :, None] * v, axis=1).reshape(M, d)               # (M, H·dh)
    return anp.dot(z, params["W_O"])                                       # (M, d)


def relu(x):
    return anp.maximum(x, 0.0)


def mlp_block(params, r):
    """The residual stream at "=" after the MLP: r + W_out ReLU(W_in r + b_in) + b_out, (M, d)."""
    h = relu(anp.dot(r, params["W_in"]) + params["b_in"])                 # (M, d_mlp)
    return r + anp.dot(h, params["W_out"]) + params["b_out"]


def unembed(params, r):
    return anp.dot(r, params["W_U"])                                        # (M, n_classes)


def n_heads_of(params, n_heads):
    d = shape_of(params)[1]
    n_heads = check_int("n_heads", n_heads, 1)
    if d % n_heads:
        raise LMNInputError(f"n_heads={n_heads} must divide d_model={d}")
    return n_heads


def stages(params, n_heads, output="logits"):
    """The network after the embedding as [(name, fn)], fn mapping the flattened representation
    before it to the flattened one it names: emb (M, 3·d) -> attn (M, d) -> mlp (M, d) -> logits."""
    from .mlp import OUTPUTS
    check_choice("output", output, OUTPUTS)                   # arrays too: a one-line error, not NumPy's
    d = shape_of(params)[1]

    def attn(x):                                                           # (M, 3·d) -> (M, d)
        x = anp.reshape(x, (-1, N_CTX, d))
        return x[:, -1] + attention(params, x, n_heads)

    out = [("attn", attn), ("mlp", lambda r: mlp_block(params, r)), ("logits", lambda r: unembed(params, r))]
    if output == "probs":
        out.append(("probs", softmax))
    return out


def representations(params, inputs, n_heads):
    """Every named representation, flattened: emb (N, 3·d), attn (N, d), mlp (N, d), logits."""
    n_heads = n_heads_of(params, n_heads)
    x = anp.reshape(embed(params, inputs), (len(inputs), -1))
    reps = {"emb": x}
    for name, fn in stages(params, n_heads):
        x = reps[name] = fn(x)
    return reps


def forward(params, inputs, n_heads):
    """Logits at "=" (N, n_classes) for token pairs (N, 2)."""
    return representations(params, inputs, n_heads)["logits"]


def tail_function(params, layer, n_heads, output="logits"):
    """The map from representation ``layer`` (flattened) to the output: the tail LMN measures."""
    check_choice("layer", layer, LMN_LAYERS)
    n_heads = n_heads_of(params, n_heads)
    st = stages(params, n_heads, output)
    fns = [fn for _, fn in st[LAYERS.index(layer):]]

    def tail(x):
        for fn in fns:
            x = fn(x)
        return x
    return tail



def tail_stages(params, layer, n_heads, output="logits"):
    """The tail from ``layer`` to ``output`` as engine stages (engine.py), arrays as given.

    The attention with its residual and the MLP with its residual are ("fn", …) stages: neither is
    a chain of affine maps and pointwise functions, so the engine cannot fold them onto the points
    (attention's scores are quadratic in its input). The unembedding is ("affine", W_U, None): from
    ``mlp`` to the logits the tail is all affine and the engine returns L = 1 without a pair loop.
    """
    check_choice("layer", layer, LMN_LAYERS)
    n_heads = n_heads_of(params, n_heads)
    st = dict(stages(params, n_heads, output))
    out = [("fn", st["attn"]), ("fn", st["mlp"]), ("affine", params["W_U"], None)]
    if output == "probs":
        out.append(("softmax",))
    return out[LAYERS.index(layer):]


def layers_lmn(params, inputs, layers, n_heads, output="logits", n_lambda=21, *, precision="float64"):
    """LMN from each of ``layers`` to ``output`` on the token pairs ``inputs``: dict layer -> LMN.

    The points are the flattened representations of ``inputs`` (the embedded sequences for
    ``emb``), the tail the rest of the network (``tail_stages``), L by eq (1)-(2) in the engine
    (the same L as lmn.connectivity_matrix with ``tail_function``, to rounding: tested). From
    ``mlp`` the tail to the logits is the unembedding, affine: L = 1 and LMN = 1 exactly.
    ``precision``: the tail's dtype ("float64", or "float32"); r² and eigenvalues are float64.
    """
    from .engine import connectivity
    from .lmn import linear_mapping_number
    from .mlp_lmn import PRECISIONS
    from .ops import NUMPY_OPS
    if not isinstance(layers, (list, tuple)) or not layers:
        raise LMNInputError(f"layers={show(layers)} must be a non-empty list of {LMN_LAYERS}")
    for layer in layers:
        check_choice("layer", layer, LMN_LAYERS)
    check_choice("precision", precision, PRECISIONS)
    shape_of(params)                                             # a dict of float arrays that chain
    for k in PARAM_NAMES:                                        # LMN needs finite weights
        check_array(f"params[{k!r}]", params[k], finite=True)
    params64 = {k: np.asarray(params[k], dtype=np.float64) for k in PARAM_NAMES}
    reps = representations(params64, inputs, n_heads)            # the points, in float64
    tail_params = {k: v.astype(precision) for k, v in params64.items()}
    return {layer: linear_mapping_number(connectivity(reps[layer], tail_stages(tail_params, layer, n_heads, output),
                                                      n_lambda, ops=NUMPY_OPS, dtype=precision))
            for layer in layers}
