"""Lesson 11 exercises: XOR's bit cases, and the local minima of a curve.
Run `python -m lmn_edu.course check 11` to check your work.
"""
import numpy as np


def bit_cases(a, b, k):
    """Which of the four cases (0,0), (0,1), (1,0), (1,1) bit k of a and b is in, numbered 0–3.

    a, b: (N,) ints. Return (N,) ints 2·bit_k(a) + bit_k(b).
    """
    raise NotImplementedError("your turn: see the docstring")


def local_minima(values):
    """Indices i (0 < i < n − 1) where values[i] is below both neighbours (values has no ties)."""
    raise NotImplementedError("your turn: see the docstring")
