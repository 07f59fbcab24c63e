"""AdamW (Loshchilov & Hutter, 2019) as a pure ``init`` / ``step`` pair.

The semantics are those of ``torch.optim.AdamW`` (no amsgrad, no maximize): weight decay
is *decoupled* — it shrinks the parameter directly, it is not added to the gradient —
and it applies to every parameter, embeddings and biases included.
"""
import math
from dataclasses import dataclass

import numpy as np

from .errors import LMNInputError, check_array, check_int, check_mapping, check_real, show


@dataclass(frozen=True)
class AdamW:
    lr: float = 1e-3
    betas: tuple = (0.9, 0.999)
    eps: float = 1e-8
    weight_decay: float = 0.2

    def __post_init__(self):
        # Stored back as plain floats (the dataclass is frozen, hence object.__setattr__).
        set_ = object.__setattr__
        set_(self, "lr", check_real("lr", self.lr, gt=0.0))
        set_(self, "eps", check_real("eps", self.eps, gt=0.0))         # eps <= 0 divides by 0 or climbs
        set_(self, "weight_decay", check_real("weight_decay", self.weight_decay, ge=0.0))
        betas = self.betas
        pair = (isinstance(betas, (tuple, list)) and len(betas) == 2) or (
            isinstance(betas, np.ndarray) and betas.shape == (2,))
        if not pair:
            raise LMNInputError(f"betas={show(betas)} must be a pair (beta1, beta2), each in [0, 1)")
        set_(self, "betas", tuple(check_real(f"betas[{k}]", b, ge=0.0, lt=1.0) for k, b in enumerate(betas)))

    def init(self, params):
        """Optimizer state: the step count t and the moments m, v (zeros like params)."""
        _check_params(params)
        zeros = {k: np.zeros_like(v) for k, v in params.items()}
        return {"t": 0, "m": zeros, "v": {k: z.copy() for k, z in zeros.items()}}

    def step(self, params, grads, state):
        """One update. Returns new (params, state); the inputs are not modified.

        ``grads`` must have the keys and shapes of ``params`` (else a grad of another shape
        would broadcast and change the param's shape). NaN or inf in grads is not an input
        error: it is training diverging, which the training loop detects from the loss.
        Each param keeps its dtype, whatever the dtype of its grad and moments (a float64 grad
        does not turn float32 params into float64): they are computed in the param's dtype.
        """
        _check_params(params)
        _check_like("grads", grads, params)
        check_mapping("state", state, "a dict from AdamW.init (t, m, v)")
        if not all(k in state for k in ("t", "m", "v")):
            raise LMNInputError(f"state must be a dict from AdamW.init with keys t, m, v, got keys {sorted(state, key=repr)}")
        check_int("state['t']", state["t"], 0)
        _check_like("state['m']", state["m"], params)
        _check_like("state['v']", state["v"], params)
        b1, b2 = self.betas
        t = state["t"] + 1                                   # 1. t ← t + 1
        bias1 = 1.0 - b1 ** t
        bias2 = 1.0 - b2 ** t
        new_params, m_new, v_new = {}, {}, {}
        for k, p in params.items():
            g, m_old, v_old = (_in_dtype(a, p.dtype) for a in (grads[k], state["m"][k], state["v"][k]))
            p = p * (1.0 - self.lr * self.weight_decay)      # 2. decoupled decay θ ← θ(1 − ηλ)
            m = b1 * m_old + (1.0 - b1) * g                  # 3. first moment
            v = b2 * v_old + (1.0 - b2) * g * g              # 4. second moment
            denom = np.sqrt(v) / math.sqrt(bias2) + self.eps   # 5. √v̂ + ε (torch's order)
            p = p - (self.lr / bias1) * m / denom            # 6. θ ← θ − η m̂ / (√v̂ + ε)
            new_params[k], m_new[k], v_new[k] = p, m, v
        return new_params, {"t": t, "m": m_new, "v": v_new}


def _in_dtype(a, dtype):
    """``a`` in the param's dtype (no copy when it already is)."""
    return np.asarray(a).astype(dtype, copy=False)


def _check_params(params):
    """params: a dict of floating-point NumPy arrays (any names, any shapes)."""
    check_mapping("params", params)
    for k, v in params.items():
        if not isinstance(v, np.ndarray):
            raise LMNInputError(f"params[{k!r}] must be a NumPy array, got {show(v)}")
        check_array(f"params[{k!r}]", v, kind="float")


def _check_like(name, value, params):
    """value: a dict with exactly the keys of params, each a real array of the param's shape."""
    check_mapping(name, value)
    if value.keys() != params.keys():
        missing = sorted(params.keys() - value.keys(), key=repr)
        extra = sorted(value.keys() - params.keys(), key=repr)
        raise LMNInputError(f"{name} must have the keys of params; missing {missing}, extra {extra}")
    for k, p in params.items():
        g = check_array(f"{name}[{k!r}]", value[k])
        if g.shape != np.shape(p):
            raise LMNInputError(f"{name}[{k!r}] has shape {g.shape}; it must have the param's shape {np.shape(p)}")
