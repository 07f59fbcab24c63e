"""The paper's 3-layer SiLU MLP as pure functions of a params dict.

    tokens (a, b) ─ emb ─▶ concat (64) ─ W1 ─▶ z1 ─ SiLU ─▶ h1 ─ W2 ─▶ z2 ─ SiLU ─▶ h2 ─ W3 ─▶ logits

``params`` is plain data: a dict of NumPy arrays ``emb`` (V, 32), ``W1`` (64, 100), ``b1`` (100,),
``W2`` (100, 100), ``b2``, ``W3`` (100, out), ``b3``. A layer computes ``x @ W + b``.
The functions use ``autograd.numpy`` so that ``autograd.grad`` differentiates them.
"""
import autograd.numpy as anp
import numpy as np

from .errors import LMNInputError

# The named representations, in the order the network computes them.
LAYERS = ("emb", "z1", "h1", "z2", "h2", "logits")
OUTPUTS = ("logits", "probs")


def init_params(rng, vocab_size, n_classes, emb_dim=32, hidden=100, dtype=np.float64):
    """Initialise as torch does by default: embeddings N(0, 1); Linear U(±1/√fan_in)."""
    def linear(fan_in, fan_out):
        bound = 1.0 / np.sqrt(fan_in)
        W = rng.uniform(-bound, bound, size=(fan_in, fan_out))
        b = rng.uniform(-bound, bound, size=(fan_out,))
        return W, b

    emb = rng.standard_normal((vocab_size, emb_dim))
    W1, b1 = linear(2 * emb_dim, hidden)
    W2, b2 = linear(hidden, hidden)
    W3, b3 = linear(hidden, n_classes)
    params = dict(emb=emb, W1=W1, b1=b1, W2=W2, b2=b2, W3=W3, b3=b3)
    return {k: v.astype(dtype) for k, v in params.items()}


def sigmoid(x):
    # tanh form: no overflow warnings for large |x|, same value as 1 / (1 + e^-x).
    return 0.5 * (anp.tanh(0.5 * x) + 1.0)


def silu(x):
    return x * sigmoid(x)


def logsumexp(x, axis=-1, keepdims=False):
    """log Σ exp(x) along ``axis``, shifted by the maximum so that exp never overflows.

    Written in autograd.numpy (scipy is not needed to import the package). The gradient also
    flows through the shift m, but its share, (1 − Σ softmax) ∂m/∂x, is zero up to rounding:
    the result m + log Σ exp(x − m) does not depend on m.
    """
    m = anp.max(x, axis=axis, keepdims=True)
    out = m + anp.log(anp.sum(anp.exp(x - m), axis=axis, keepdims=True))
    return out if keepdims else anp.squeeze(out, axis=axis)


def softmax(x):
    """exp(x − m) / Σ exp(x − m) along the last axis, m the row's maximum: no overflow, and each
    probability to a few ulps of itself (exp(x − logsumexp(x)) loses ε · |logsumexp| to rounding)."""
    e = anp.exp(x - anp.max(x, axis=-1, keepdims=True))
    return e / anp.sum(e, axis=-1, keepdims=True)


def embed(params, inputs):
    """Look up both tokens and concatenate: (N, 2) ints -> (N, 2 * emb_dim)."""
    inputs = np.asarray(inputs)
    if inputs.ndim != 2 or inputs.shape[1] != 2:
        raise LMNInputError(f"inputs must have shape (N, 2) token pairs, got {inputs.shape}")
    E = params["emb"]
    return anp.concatenate([E[inputs[:, 0]], E[inputs[:, 1]]], axis=1)


def stages(params, output="logits"):
    """The network after the embedding, as a list of (name, kind, fn).

    ``name`` is the representation the stage produces; ``kind`` is ``"affine"`` or
    ``"nonlinear"``. LMN code uses the kinds (see mlp_lmn.py): an affine stage commutes
    with interpolation along a line, a nonlinear one does not.
    """
    if output not in OUTPUTS:
        raise LMNInputError(f"output={output!r} is not allowed; choose one of {OUTPUTS}")
    p = params
    out = [
        ("z1", "affine", lambda x: anp.dot(x, p["W1"]) + p["b1"]),
        ("h1", "nonlinear", silu),
        ("z2", "affine", lambda x: anp.dot(x, p["W2"]) + p["b2"]),
        ("h2", "nonlinear", silu),
        ("logits", "affine", lambda x: anp.dot(x, p["W3"]) + p["b3"]),
    ]
    if output == "probs":
        out.append(("probs", "nonlinear", softmax))
    return out


def representations(params, inputs):
    """Every named representation: dict emb, z1, h1, z2, h2, logits, each (N, width)."""
    x = embed(params, inputs)
    reps = {"emb": x}
    for name, _, fn in stages(params):
        x = fn(x)
        reps[name] = x
    return reps


def forward(params, inputs):
    """Logits (N, n_classes) for token pairs (N, 2)."""
    x = embed(params, inputs)
    for _, _, fn in stages(params):
        x = fn(x)
    return x


def cross_entropy(logits, labels):
    """Mean negative log-likelihood of the labels."""
    n = logits.shape[0]
    return anp.mean(logsumexp(logits, axis=1) - logits[np.arange(n), labels])


def loss(params, inputs, labels):
    return cross_entropy(forward(params, inputs), labels)


def accuracy(logits, labels):
    return float(np.mean(np.argmax(logits, axis=1) == labels))


def l2_norm(params):
    """√(Σ p²) over every parameter, embeddings included (the paper's L2)."""
    return float(np.sqrt(sum(np.sum(np.asarray(v, dtype=np.float64) ** 2) for v in params.values())))
