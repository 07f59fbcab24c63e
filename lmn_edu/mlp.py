"""The paper's 3-layer SiLU MLP as pure functions of a params dict.

    tokens (a, b) ─ emb ─▶ concat (64) ─ W1 ─▶ z1 ─ SiLU ─▶ h1 ─ W2 ─▶ z2 ─ SiLU ─▶ h2 ─ W3 ─▶ logits

``params`` is plain data: a dict of NumPy arrays ``emb`` (V, 32), ``W1`` (64, 100), ``b1`` (100,),
``W2`` (100, 100), ``b2``, ``W3`` (100, out), ``b3``. A layer computes ``x @ W + b``.
The functions use ``autograd.numpy`` so that ``autograd.grad`` differentiates them.
"""
import autograd.numpy as anp
import numpy as np
from autograd.tracer import getval

from . import primitives
from .errors import LMNInputError, check_array, check_int, check_mapping, check_rng, show

# The arrays of a params dict, in the order the network uses them.
PARAM_NAMES = ("emb", "W1", "b1", "W2", "b2", "W3", "b3")

# The named representations, in the order the network computes them.
LAYERS = ("emb", "z1", "h1", "z2", "h2", "logits")
OUTPUTS = ("logits", "probs")


def init_params(rng, vocab_size, n_classes, emb_dim=32, hidden=100, dtype=np.float64):
    """Initialise as torch does by default: embeddings N(0, 1); Linear U(±1/√fan_in).

    ``dtype`` must be a floating-point type: an integer type would round every weight to 0.
    """
    check_rng("rng", rng)
    vocab_size, n_classes = check_int("vocab_size", vocab_size, 1), check_int("n_classes", n_classes, 1)
    emb_dim, hidden = check_int("emb_dim", emb_dim, 1), check_int("hidden", hidden, 1)
    try:
        kind = np.dtype(dtype).kind
    except (TypeError, ValueError, SyntaxError):   # np.dtype(",") raises a SyntaxError
        kind = None
    if kind != "f":
        raise LMNInputError(f"dtype={show(dtype)} must be a floating-point type such as np.float64")

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


# σ, SiLU and log-sum-exp with hand-written gradients that reuse the forward's values: the
# same numbers as the textbook formulas, a faster training step (see primitives.py).
sigmoid = primitives.sigmoid      # 1 / (1 + e^(−x))
silu = primitives.silu            # x σ(x)
logsumexp = primitives.logsumexp  # log Σ exp(x) along an axis, shifted by the maximum


def softmax(x):
    """exp(x − m) / Σ exp(x − m) along the last axis, m the row's maximum: no overflow, and each
    probability to a few ulps of itself (exp(x − logsumexp(x)) loses ε · |logsumexp| to rounding)."""
    e = anp.exp(x - anp.max(x, axis=-1, keepdims=True))
    return e / anp.sum(e, axis=-1, keepdims=True)


def check_params(params, finite=False):
    """Check a params dict: the seven arrays of PARAM_NAMES, floating-point, with shapes that chain.

    emb (V, E), W1 (2E, H1), b1 (H1,), W2 (H1, H2), b2 (H2,), W3 (H2, C), b3 (C,); extra keys
    are ignored. Works on autograd's boxed values too. ``finite``: reject NaN and inf (LMN
    needs finite weights; forward and loss do not check it, so that a diverged network gives
    a NaN loss, which the training loop reports as divergence). Returns (V, C).
    """
    params = getval(params)                                  # autograd may box the whole dict
    check_mapping("params", params, f"a dict of arrays {', '.join(PARAM_NAMES)}")
    missing = [k for k in PARAM_NAMES if k not in params]
    if missing:
        raise LMNInputError(f"params is missing {', '.join(missing)}; it needs {', '.join(PARAM_NAMES)}")
    p = {}
    for k in PARAM_NAMES:
        v = getval(params[k])                                # the array inside an autograd box
        if not isinstance(v, np.ndarray):
            raise LMNInputError(f"params[{k!r}] must be a NumPy array, got {show(v)}")
        p[k] = check_array(f"params[{k!r}]", v, kind="float", ndim=2 if k[0] in "eW" else 1, finite=finite)
    V, E = p["emb"].shape
    want = {"W1": (2 * E, None), "b1": (p["W1"].shape[1],), "W2": (p["W1"].shape[1], None),
            "b2": (p["W2"].shape[1],), "W3": (p["W2"].shape[1], None), "b3": (p["W3"].shape[1],)}
    for k, shape in want.items():
        if p[k].shape[0] != shape[0]:
            raise LMNInputError(f"params[{k!r}] has shape {p[k].shape}; its first dimension must be {shape[0]} "
                                "to chain with the layer before it")
    empty = [k for k in PARAM_NAMES if p[k].size == 0]
    if empty:
        raise LMNInputError(f"params[{empty[0]!r}] is empty (shape {p[empty[0]].shape}); every layer needs a width >= 1")
    return V, p["W3"].shape[1]


def check_inputs(inputs, vocab_size, min_pairs=0):
    """Token pairs (N, 2) of integers in [0, vocab_size): a negative id would silently wrap around."""
    inputs = check_array("inputs", inputs, kind="int", ndim=2, what="(N, 2) token pairs")
    if inputs.shape[1] != 2:
        raise LMNInputError(f"inputs must have shape (N, 2) token pairs, got {inputs.shape}")
    if len(inputs) < min_pairs:
        raise LMNInputError(f"inputs must hold at least one token pair, got shape {inputs.shape}")
    if inputs.size and (inputs.min() < 0 or inputs.max() >= vocab_size):
        raise LMNInputError(f"inputs must hold token ids in [0, {vocab_size - 1}] (params['emb'] has {vocab_size} "
                            f"rows), found ids from {inputs.min()} to {inputs.max()}")
    return inputs


def _check_labels(logits, labels):
    """logits (N, C) real, labels (N,) integers in [0, C), N >= 1. Returns labels as an array."""
    z = check_array("logits", getval(logits), ndim=2, what="(N, n_classes)")
    n, c = z.shape
    if n < 1 or c < 1:
        raise LMNInputError(f"logits must hold at least one row and one class, got shape {z.shape}")
    labels = check_array("labels", labels, kind="int", ndim=1, what="(N,)")
    if len(labels) != n:
        raise LMNInputError(f"labels has {len(labels)} entries; logits has {n} rows")
    if labels.min() < 0 or labels.max() >= c:
        raise LMNInputError(f"labels must be class ids in [0, {c - 1}], found ids from {labels.min()} to {labels.max()}")
    return labels


def embed(params, inputs):
    """Look up both tokens and concatenate: (N, 2) ints -> (N, 2 * emb_dim)."""
    vocab_size, _ = check_params(params)
    inputs = check_inputs(inputs, vocab_size)
    E = params["emb"]
    take = primitives.take_rows                              # E[ids], its gradient without np.add.at
    return anp.concatenate([take(E, inputs[:, 0]), take(E, inputs[:, 1])], axis=1)


# The network after the embedding, described once, as data: (the representation a stage
# produces, its kind, the params it reads). The NumPy forward (stages, below), the torch forward
# (backends/torch_backend.py) and the LMN tails (tail_stages, for engine.py) are built from it.
STAGES = (
    ("z1", "affine", ("W1", "b1")),
    ("h1", "silu", ()),
    ("z2", "affine", ("W2", "b2")),
    ("h2", "silu", ()),
    ("logits", "affine", ("W3", "b3")),
)
OUTPUT_STAGES = {"logits": (), "probs": (("probs", "softmax", ()),)}


def stage_table(output="logits"):
    """STAGES, then the stages that turn logits into ``output``: [(name, kind, param names)]."""
    if output not in OUTPUTS:
        raise LMNInputError(f"output={output!r} is not allowed; choose one of {OUTPUTS}")
    return list(STAGES + OUTPUT_STAGES[output])


def stages(params, output="logits"):
    """The network after the embedding, as a list of (name, kind, fn), built from STAGES.

    ``name`` is the representation the stage produces; ``kind`` is ``"affine"`` or
    ``"nonlinear"``: an affine stage commutes with interpolation along a line, a nonlinear one
    does not (engine.py). The params are read when a stage runs.
    """
    activations = {"silu": silu, "softmax": softmax}         # looked up now: the current definitions
    out = []
    for name, kind, keys in stage_table(output):
        if kind == "affine":
            out.append((name, "affine", lambda x, w=keys[0], b=keys[1]: primitives.affine(x, params[w], params[b])))
        else:
            out.append((name, "nonlinear", activations[kind]))
    return out


def tail_stages(params, layer, output="logits"):
    """The network from representation ``layer`` to ``output`` as engine stages (engine.py):
    [("affine", W, b), ("silu",), …], with params' arrays as they are (NumPy or torch)."""
    table = stage_table(output)
    names = ["emb"] + [name for name, _, _ in table]
    if layer not in names:
        raise LMNInputError(f"layer={layer!r} is not allowed; choose one of {tuple(names)}")
    return [("affine", params[keys[0]], params[keys[1]]) if kind == "affine" else (kind,)
            for _, kind, keys in table[names.index(layer):]]


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
    """Mean negative log-likelihood of the labels: logits (N, C), labels (N,) class ids."""
    labels = _check_labels(logits, labels)
    if np.asarray(getval(logits)).dtype.kind in "iub":           # integer logits: NumPy would take exp of int8 in float16
        logits = np.asarray(getval(logits), dtype=np.float64)
    return anp.mean(logsumexp(logits, axis=1) - primitives.pick(logits, labels))   # pick: logits[i, labels[i]]


def loss(params, inputs, labels):
    return cross_entropy(forward(params, inputs), labels)


def accuracy(logits, labels):
    """Fraction of rows whose largest logit is the label's."""
    labels = _check_labels(logits, labels)
    return float(np.mean(np.argmax(logits, axis=1) == labels))


def l2_norm(params):
    """√(Σ p²) over every parameter, embeddings included (the paper's L2).

    Any dict of real arrays; NaN or inf give NaN or inf (a diverged network's norm is reported).
    """
    check_mapping("params", params)
    params = {k: check_array(f"params[{k!r}]", v) for k, v in params.items()}
    return float(np.sqrt(sum(np.sum(np.asarray(v, dtype=np.float64) ** 2) for v in params.values())))
