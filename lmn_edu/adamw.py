"""AdamW (Loshchilov & Hutter, 2019) as a pure ``init`` / ``step`` pair.

The semantics are those of ``torch.optim.AdamW`` (no amsgrad, no maximize): weight decay
is *decoupled* — it shrinks the parameter directly, it is not added to the gradient —
and it applies to every parameter, embeddings and biases included.
"""
import math
from dataclasses import dataclass

import numpy as np

from .errors import LMNInputError


@dataclass(frozen=True)
class AdamW:
    lr: float = 1e-3
    betas: tuple = (0.9, 0.999)
    eps: float = 1e-8
    weight_decay: float = 0.2

    def __post_init__(self):
        if not self.lr > 0:
            raise LMNInputError(f"lr={self.lr!r} must be > 0")
        if not all(0.0 <= b < 1.0 for b in self.betas):
            raise LMNInputError(f"betas={self.betas!r} must each be in [0, 1)")
        if not self.weight_decay >= 0:
            raise LMNInputError(f"weight_decay={self.weight_decay!r} must be >= 0")

    def init(self, params):
        """Optimizer state: the step count t and the moments m, v (zeros like params)."""
        zeros = {k: np.zeros_like(v) for k, v in params.items()}
        return {"t": 0, "m": zeros, "v": {k: z.copy() for k, z in zeros.items()}}

    def step(self, params, grads, state):
        """One update. Returns new (params, state); the inputs are not modified."""
        b1, b2 = self.betas
        t = state["t"] + 1                                   # 1. t ← t + 1
        bias1 = 1.0 - b1 ** t
        bias2 = 1.0 - b2 ** t
        new_params, m_new, v_new = {}, {}, {}
        for k, p in params.items():
            g = grads[k]
            p = p * (1.0 - self.lr * self.weight_decay)      # 2. decoupled decay θ ← θ(1 − ηλ)
            m = b1 * state["m"][k] + (1.0 - b1) * g          # 3. first moment
            v = b2 * state["v"][k] + (1.0 - b2) * g * g      # 4. second moment
            denom = np.sqrt(v) / math.sqrt(bias2) + self.eps   # 5. √v̂ + ε (torch's order)
            p = p - (self.lr / bias1) * m / denom            # 6. θ ← θ − η m̂ / (√v̂ + ε)
            new_params[k], m_new[k], v_new[k] = p, m, v
        return new_params, {"t": t, "m": m_new, "v": v_new}
