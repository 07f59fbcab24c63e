"""Lesson 11 exercises: XOR's bit cases, the local minima of a curve, and a turning-point detector.
Run `python -m lmn_edu.course check 11` to check your work (`--hint` for a hint).
"""
import numpy as np


def bit_cases(a, b, k):
    """★ (5 min) Which of the four cases (0,0), (0,1), (1,0), (1,1) bit k of a and b is in, numbered 0–3.

    a, b: (N,) non-negative ints (N may be 0). Return (N,) ints 2·bit_k(a) + bit_k(b).
    """
    raise NotImplementedError("your turn: see the docstring")


def local_minima(values):
    """★★ (15 min) Indices of the local minima of the curve values (n,), in increasing order.

    i is a local minimum when 0 < i < n − 1 and values[i] is below both neighbours. A flat
    bottom — a run of equal values with a higher value on each side — counts once, at the
    middle of the run ((first + last) // 2). The ends never count. Return a list or array of ints.
    """
    raise NotImplementedError("your turn: see the docstring")


def turning_points(steps, values, after=0, prominence=0.5):
    """★★★ (35 min) XOR's turning points: after step ``after`` (steps ≥ after only), the first local
    minimum of values with a prominence of at least ``prominence``, and the first local maximum
    after it with at least that prominence.

    Minima and maxima as in local_minima (a maximum is a minimum of −values). The prominence of
    a maximum at i: walk left from i while the curve stays ≤ values[i] and note the lowest value
    met; the same to the right; prominence = values[i] − the higher of the two lowest values.
    A minimum's prominence is that of the maximum of −values. Return a list of (kind, step,
    value), kind "min" or "max": [] when there is no such minimum, one entry when no maximum
    follows it.
    """
    raise NotImplementedError("your turn: see the docstring")
