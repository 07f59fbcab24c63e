"""Lesson 11 exercises: XOR's bit cases, the local minima of a curve, and a turning-point detector."""
import numpy as np


def bit_cases(a, b, k):
    """★ (5 min) Which of the four cases (0,0), (0,1), (1,0), (1,1) bit k of a and b is in, numbered 0–3.

    a, b: (N,) non-negative ints (N may be 0). Return (N,) ints 2·bit_k(a) + bit_k(b).
    """
    a, b = np.asarray(a, dtype=int), np.asarray(b, dtype=int)
    return 2 * ((a >> k) & 1) + ((b >> k) & 1)


def local_minima(values):
    """★★ (15 min) Indices of the local minima of the curve values (n,), in increasing order.

    i is a local minimum when 0 < i < n − 1 and values[i] is below both neighbours. A flat
    bottom — a run of equal values with a higher value on each side — counts once, at the
    middle of the run ((first + last) // 2). The ends never count. Return a list or array of ints.
    """
    v = list(values)
    found, i = [], 1
    while i < len(v) - 1:
        if v[i] < v[i - 1]:
            j = i
            while j + 1 < len(v) and v[j + 1] == v[i]:
                j += 1                                        # to the end of a flat bottom
            if j + 1 < len(v) and v[j + 1] > v[i]:
                found.append((i + j) // 2)
            i = j + 1
        else:
            i += 1
    return found


def _prominence(v, i):
    """How far the maximum v[i] stands above the higher of the lowest points on each side, each
    side walked while the curve stays at or below v[i]."""
    lows = []
    for direction in (-1, 1):
        k, low = i, v[i]
        while 0 <= k + direction < len(v) and v[k + direction] <= v[i]:
            k += direction
            low = min(low, v[k])
        lows.append(low)
    return v[i] - max(lows)


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
    keep = [(s, float(v)) for s, v in zip(steps, values) if s >= after]
    s, v = [p[0] for p in keep], np.array([p[1] for p in keep])
    lows = [i for i in local_minima(v) if _prominence(-v, i) >= prominence]
    if not lows:
        return []
    out = [("min", int(s[lows[0]]), float(v[lows[0]]))]
    highs = [i for i in local_minima(-v) if i > lows[0] and _prominence(v, i) >= prominence]
    if highs:
        out.append(("max", int(s[highs[0]]), float(v[highs[0]])))
    return out
