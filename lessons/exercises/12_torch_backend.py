"""Lesson 12 exercises: the margin where softmax cross-entropy collapses, comparing two histories,
and the cross-entropy a given precision computes. Run `python -m lmn_edu.course check 12` (`--hint`).
"""
import numpy as np


def collapse_margin(dtype):
    """★★ (10 min) The margin m above which 1 + e^(−m) rounds to exactly 1 in ``dtype`` (a NumPy
    float type: np.float16, np.float32, np.float64, …). Return a float.

    Then log(1 + e^(−m)), the cross-entropy of a sample classified with margin m against one
    other class, is exactly 0 — and so is its gradient. Use the dtype's machine epsilon.
    """
    raise NotImplementedError("your turn: see the docstring")


def max_relative_difference(rows_a, rows_b, key):
    """★★ (15 min) How far two histories of the same run drift apart: the largest
    |a − b| / max(|a|, 1e-12) of ``key`` over the steps both measured.

    Rows are dicts with a "step"; match them by step (the two lists need not hold the same steps,
    nor in the same order); skip rows where either value is None or missing. None when no step
    has both. Return a float (or None).
    """
    raise NotImplementedError("your turn: see the docstring")


def cross_entropy_in(logits, labels, dtype):
    """★★★ (25 min) Each sample's cross-entropy computed as torch does, entirely in ``dtype``.

    logits (N, C), labels (N,). Loss_n = logsumexp(z_n) − z_n[label], with logsumexp(z) =
    max(z) + log Σ exp(z − max(z)), every operation in ``dtype`` (cast the logits first). Return
    (N,) losses of that dtype. Logits may be 10⁴: nothing may overflow. A sample whose margin is
    large enough gets a loss of exactly 0 (the softmax collapse).
    """
    raise NotImplementedError("your turn: see the docstring")
