"""Softmax Collapse: when finite precision stops a sample from teaching anything.

Prieto et al., "Grokking at the Edge of Numerical Stability" (ICLR 2025). Softmax
cross-entropy of a sample with logits z and label y is

    loss = log Σ_k exp(z_k − z_y) = log(1 + Σ_{k≠y} exp(z_k − z_y)).

Once the correct logit leads every other by a margin with exp(−margin) below half an ulp
of 1 (2⁻²⁴ in float32, 2⁻⁵³ in float64), the sum rounds to exactly 1: the loss is exactly
0, and so is the gradient on the correct logit, p_y − 1 = 1/sum − 1. That happens at a
margin of about ln 2²⁴ ≈ 16.6 in float32 and ln 2⁵³ ≈ 36.7 in float64. The sample keeps a
tiny push on its wrong logits (p_k = exp(z_k − z_y) is still a normal number) but none on
its correct one.

A second way precision stops learning: AdamW shrinks a parameter by (1 − lr·wd) and then
subtracts its Adam step u. When |u| is below half an ulp of the decayed parameter, the
subtraction changes nothing: the step "rounds away" and only the decay acts.

The functions here are pure NumPy and compute in the dtype of their inputs, so that they
measure what training in that dtype sees. Both backends call them on their own state
(numpy_backend.py, torch_backend.py); ``COLUMNS`` names what ``Backend.diagnostics()`` returns.
"""
import math

import numpy as np

COLUMNS = ("zero_loss_frac", "zero_grad_frac", "rounded_update_frac", "max_margin")


def collapse_margin(dtype):
    """The margin z_y − max_{k≠y} z_k beyond which one wrong class rounds away: ln(2 / eps).

    exp(−margin) < eps / 2 (half an ulp of 1), so 1 + exp(−margin) rounds to 1.
    About 16.6 for float32 and 36.7 for float64. With several wrong classes near the
    same margin their sum matters, so collapse can need a little more.
    """
    return math.log(2.0 / np.finfo(dtype).eps)


def per_sample_loss(logits, labels):
    """Cross-entropy of each sample, (N,), computed in ``logits.dtype`` as training does.

    log-sum-exp with the row maximum m subtracted (as every stable kernel does):
    loss_i = (m_i − z_iy) + log Σ_k exp(z_ik − m_i). When y is the argmax the first term is
    exactly 0 and the second is log of a sum that rounds to 1 once the margin is large.
    """
    z = np.asarray(logits)                                   # (N, C)
    y = np.asarray(labels)
    m = z.max(axis=1)                                        # (N,)
    s = np.exp(z - m[:, None]).sum(axis=1)                   # (N,), >= 1
    return (m - z[np.arange(len(z)), y]) + np.log(s)


def correct_class_grad(logits, labels):
    """d loss_i / d z_iy = p_iy − 1, (N,), in ``logits.dtype``: exactly 0 once p_iy rounds to 1.

    p_iy = exp(−loss_i), as the backward pass of a log-softmax computes it.
    """
    return np.exp(-per_sample_loss(logits, labels)) - 1


def margins(logits, labels):
    """z_iy − max_{k≠y} z_ik of each sample, (N,): how far each is from collapse (see collapse_margin).

    Negative where the sample is misclassified. Needs at least two classes.
    """
    z = np.asarray(logits)                                   # (N, C)
    rows = np.arange(len(z))
    correct = z[rows, labels]
    others = z.copy()
    others[rows, labels] = -np.inf
    return correct - others.max(axis=1)


def zero_loss_frac(logits, labels):
    """Share of samples whose loss is exactly 0 in ``logits.dtype``."""
    return float(np.mean(per_sample_loss(logits, labels) == 0))


def zero_grad_frac(logits, labels):
    """Share of samples whose correct-class gradient is exactly 0 in ``logits.dtype``.

    For a log-sum-exp loss it equals ``zero_loss_frac`` up to rare ties: a loss above 0 is
    at least log(1 + ulp), whose exp is below 1. Both are measured because they are the two
    claims of the paper, and a different loss code need not keep them equal.
    """
    return float(np.mean(correct_class_grad(logits, labels) == 0))


def adamw_update(grads, m, v, t, lr, betas, eps):
    """The Adam step u of each parameter for the *next* AdamW step (t + 1), in the grads' dtype.

    The same order of operations as adamw.py (and torch.optim.AdamW): m ← β1 m + (1 − β1) g,
    v ← β2 v + (1 − β2) g², u = (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + ε).
    ``grads``, ``m``, ``v``: dicts of arrays; ``t``: the steps taken so far. Returns a dict.
    """
    b1, b2 = betas
    t = t + 1
    step_size = lr / (1.0 - b1 ** t)
    root_bias2 = math.sqrt(1.0 - b2 ** t)
    out = {}
    for k, g in grads.items():
        mk = b1 * m[k] + (1.0 - b1) * g
        vk = b2 * v[k] + (1.0 - b2) * g * g
        out[k] = step_size * mk / (np.sqrt(vk) / root_bias2 + eps)
    return out


def rounded_update_frac(params, updates, lr, weight_decay):
    """Share of parameter entries whose Adam step rounds away, over all entries.

    An entry's step rounds away when u ≠ 0 and fl(d − u) == d, where d = fl(p · (1 − lr·wd))
    is the decayed parameter and all arithmetic is in the params' dtype: the step was
    computed, but adding it left the parameter where the decay put it. (An entry with u = 0
    has nothing to lose and is not counted.)
    """
    hit = total = 0
    for k, p in params.items():
        p = np.asarray(p)
        u = np.asarray(updates[k], dtype=p.dtype)
        decayed = p * p.dtype.type(1.0 - lr * weight_decay)
        hit += int(np.count_nonzero((u != 0) & ((decayed - u) == decayed)))
        total += p.size
    return hit / total


def diagnostics(logits, labels, params, updates, lr, weight_decay):
    """All of ``COLUMNS`` at once: the losses and the largest margin from ``logits`` (train
    samples, in the loss dtype), the rounding from ``params`` and the next step's ``updates``
    (in the params' dtype)."""
    return {
        "zero_loss_frac": zero_loss_frac(logits, labels),
        "zero_grad_frac": zero_grad_frac(logits, labels),
        "rounded_update_frac": rounded_update_frac(params, updates, lr, weight_decay),
        "max_margin": float(margins(logits, labels).max()),
    }
