"""Lesson 12 exercises: the margin where softmax cross-entropy collapses, and comparing histories.
Run `python -m lmn_edu.course check 12` to check your work.
"""
import numpy as np


def collapse_margin(dtype):
    """The margin m above which 1 + e^(−m) rounds to exactly 1 in ``dtype`` (np.float32 or np.float64).

    Then log(1 + e^(−m)), the cross-entropy of a sample classified with margin m against one
    other class, is exactly 0 — and so is its gradient. Use the dtype's machine epsilon.
    """
    raise NotImplementedError("your turn: see the docstring")


def max_relative_difference(rows_a, rows_b, key):
    """The largest |a − b| / max(|a|, 1e-12) of ``key`` over matching rows where both are measured."""
    raise NotImplementedError("your turn: see the docstring")
