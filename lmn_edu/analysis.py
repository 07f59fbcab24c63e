"""Reading a run's history: phases, windows, correlations, turning points, spectral ordering.

Everything that interprets rows of a history lives here, so that the command line, the
reproduction report and the lessons read a run the same way. NumPy only.

Rows are dicts as in a run's history (history.py): ``step``, ``train_acc``, ``test_acc``,
``test_loss``, ``l2``, ``lmn_<layer>`` …, with None where a value was not measured.
"""
import numpy as np

from .errors import LMNInputError


# --- phases -----------------------------------------------------------------------------

def column(rows, name):
    """(steps, values) of the rows where ``name`` was measured."""
    pairs = [(r["step"], r[name]) for r in rows if r.get(name) is not None]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def first_step(rows, key, threshold=1.0):
    """The first step whose ``key`` is at least ``threshold``; None if none is."""
    return next((r["step"] for r in rows if r.get(key) is not None and r[key] >= threshold), None)


def phase_steps(rows):
    """The paper's phase boundaries: (memorization step, generalization step).

    Memorization: the first step with train accuracy 1; generalization: the first step with
    test accuracy 1. None where a boundary is not reached. The three phases are memorizing
    (before the first), generalizing (between) and finalizing (after the second).
    """
    return first_step(rows, "train_acc"), first_step(rows, "test_acc")


def phase_window(rows, column="lmn_h1"):
    """The rows of the generalizing phase that have ``column`` measured, both ends included.

    The phase runs from the memorization step to the generalization step, or to the end of
    the run when test accuracy never reaches 1. Empty when the run never memorized.
    """
    mem, gen = phase_steps(rows)
    if mem is None or not rows:
        return []
    end = gen if gen is not None else rows[-1]["step"]
    return [r for r in rows if mem <= r["step"] <= end and r.get(column) is not None]


def reached(rows, phase):
    """Did the run reach ``phase`` ("memorized" or "generalized")? For "not tested" verdicts."""
    mem, gen = phase_steps(rows)
    if phase == "memorized":
        return mem is not None
    if phase == "generalized":
        return gen is not None
    raise LMNInputError(f"phase={phase!r} is not allowed; choose one of 'memorized', 'generalized'")


# --- correlation ------------------------------------------------------------------------

def pearson(x, y):
    """Pearson r of two sequences; None for fewer than 3 points or a constant sequence."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if len(x) < 3 or x.std() == 0 or y.std() == 0:
        return None
    return float(np.corrcoef(x, y)[0, 1])


# --- levelling off ---------------------------------------------------------------------
# "LMN starts to level off after grokking" (the paper's abstract), made a test that can fail.

LEVEL_WINDOW = 5000      # steps after ``after_step`` over which the later rate is fitted
LEVEL_FRACTION = 0.2     # "levels off": the later rate is at most this fraction of the earlier


def _rate(steps, values, lo, hi):
    """(slope per 1 000 steps of the least-squares line through the points with lo ≤ step ≤ hi, n)."""
    keep = (steps >= lo) & (steps <= hi)
    n = int(keep.sum())
    if n < 3 or np.ptp(steps[keep]) == 0:
        return None, n
    if np.ptp(values[keep]) == 0:
        return 0.0, n                                    # exactly flat (polyfit would leave ~1e-19)
    return float(1000.0 * np.polyfit(steps[keep], values[keep], 1)[0]), n


def levels_off(steps, values, after_step, before_start, window=LEVEL_WINDOW, fraction=LEVEL_FRACTION,
               min_points=4):
    """Does a curve level off after ``after_step`` (the generalization step)? One definition, stated:

    rate before: the slope (per 1 000 steps) of the least-squares line through the points of the
    generalizing phase, ``before_start`` (the memorization step) ≤ step ≤ ``after_step``;
    rate after: the slope of the line through ``after_step`` ≤ step ≤ ``after_step + window``.
    The curve levels off when |rate after| ≤ ``fraction`` × |rate before|: it changes at least
    1/fraction times more slowly after generalization than it did while the network generalized.

    Why these numbers. ``window`` = 5 000 steps is a quarter of the paper's 20 000-step run: long
    enough for ≥ 10 values at an LMN cadence of 250 steps, so that the slope is not two points'
    noise, and short enough to lie inside every run that generalizes before step 15 000; a fixed
    width keeps seeds comparable (a line through "to the end of the run" would average more of
    the flat tail for a seed that generalizes early). ``fraction`` = 0.2 asks for a five-fold slow
    down: a curve falling at a steady rate gives a ratio of 1, one that merely fluctuates around
    a slower descent gives ratios of 0.5 or so, and at a fifth of its earlier rate the curve would
    need five times the generalizing phase to fall by as much again. A rise after generalization
    (XOR's bump) is a rate too: |rate| compares speeds, the signs are returned.

    Returns a dict: ``rate_before``, ``rate_after`` (per 1 000 steps), ``ratio`` (after / before),
    ``levels_off`` (True / False, None when either window has fewer than ``min_points`` points or
    the earlier rate is 0: not tested), ``fraction``, ``window``, and what it was computed on:
    ``before`` and ``after`` as (first step, last step, number of points) of each window.
    """
    steps = np.asarray(steps, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    if steps.shape != values.shape or steps.ndim != 1:
        raise LMNInputError(f"steps and values must be 1-D and of one length; got shapes {steps.shape} "
                            f"and {values.shape}")
    if not before_start <= after_step:
        raise LMNInputError(f"before_start={before_start} must not be after after_step={after_step}")
    if not (window > 0 and 0 < fraction < 1):
        raise LMNInputError(f"window={window} must be > 0 and fraction={fraction} within (0, 1)")
    before, n_before = _rate(steps, values, before_start, after_step)
    after, n_after = _rate(steps, values, after_step, after_step + window)
    out = {"rate_before": before, "rate_after": after, "ratio": None, "levels_off": None,
           "fraction": fraction, "window": window,
           "before": (before_start, after_step, n_before), "after": (after_step, after_step + window, n_after)}
    if before is None or after is None or min(n_before, n_after) < min_points or before == 0:
        return out
    out["ratio"] = after / before
    out["levels_off"] = bool(abs(after) <= fraction * abs(before))
    return out


# --- turning points ---------------------------------------------------------------------

def _local_maxima(v):
    """Indices of local maxima of v (a plateau counts once, at its middle, as scipy does)."""
    peaks, i, n = [], 1, len(v)
    while i < n - 1:
        if v[i - 1] < v[i]:
            j = i
            while j + 1 < n - 1 and v[j + 1] == v[i]:
                j += 1                                   # walk to the plateau's end
            if v[j + 1] < v[i]:
                peaks.append((i + j) // 2)
            i = j + 1
        else:
            i += 1
    return np.array(peaks, dtype=int)


def _prominence(v, i):
    """How far peak i stands above the higher of the lowest points on either side of it,
    each side searched until the curve rises above the peak (scipy.signal's definition)."""
    left = i
    lo_left = v[i]
    while left > 0 and v[left - 1] <= v[i]:
        left -= 1
        lo_left = min(lo_left, v[left])
    right = i
    lo_right = v[i]
    while right < len(v) - 1 and v[right + 1] <= v[i]:
        right += 1
        lo_right = min(lo_right, v[right])
    return v[i] - max(lo_left, lo_right)


def peaks(values, prominence=0.0):
    """Indices of the local maxima of ``values`` with at least ``prominence``."""
    v = np.asarray(values, dtype=np.float64)
    return np.array([i for i in _local_maxima(v) if _prominence(v, i) >= prominence], dtype=int)


def turning_points(steps, values, after=0, prominence=0.5):
    """XOR's turning points: after step ``after``, the first local minimum of ``values`` and the
    first local maximum after it, each with a prominence of at least ``prominence``.

    Returns [(kind, step, value)], kind "min" or "max" (shorter when a turn is not there).
    """
    steps, values = np.asarray(steps), np.asarray(values, dtype=np.float64)
    keep = steps >= after
    steps, values = steps[keep], values[keep]
    if len(values) < 3:
        return []
    lows = peaks(-values, prominence)
    if not len(lows):
        return []
    out = [("min", int(steps[lows[0]]), float(values[lows[0]]))]
    highs = peaks(values, prominence)
    highs = highs[highs > lows[0]]
    if len(highs):
        out.append(("max", int(steps[highs[0]]), float(values[highs[0]])))
    return out


# --- spectral ordering of L -------------------------------------------------------------

def _kmeans(X, k, rng, n_init=10, iters=100):
    """Lloyd's k-means with k-means++ starts; the labels of the best of ``n_init`` runs."""
    best, best_cost = None, np.inf
    for _ in range(n_init):
        centres = [X[rng.integers(len(X))]]
        for _ in range(1, k):                            # k-means++: far points are likelier
            d2 = np.min([((X - c) ** 2).sum(axis=1) for c in centres], axis=0)
            centres.append(X[rng.choice(len(X), p=d2 / d2.sum())] if d2.sum() > 0 else X[rng.integers(len(X))])
        C = np.array(centres)                            # (k, d)
        for _ in range(iters):
            d2 = ((X[:, None, :] - C[None, :, :]) ** 2).sum(axis=2)   # (N, k)
            labels = d2.argmin(axis=1)
            new = np.array([X[labels == c].mean(axis=0) if np.any(labels == c) else C[c] for c in range(k)])
            if np.allclose(new, C):
                break
            C = new
        cost = d2[np.arange(len(X)), labels].sum()
        if cost < best_cost:
            best, best_cost = labels, cost
    return best


# An eigenvalue of L that is 0 in exact arithmetic comes out as ±1e-16 or so: negative only below
# −NEGATIVE_RTOL · max|μ| (the rule lesson 10 teaches).
NEGATIVE_RTOL = 1e-12


def negative_eigenvalues(mu):
    """(M,) bools: which eigenvalues μ of L are negative beyond rounding, μ < −1e-12 · max|μ|."""
    mu = np.asarray(mu, dtype=np.float64)
    return mu < -NEGATIVE_RTOL * (np.abs(mu).max() if mu.size else 0.0)


def spectral_order(L, n_clusters=10, seed=0):
    """An order of L's points that shows its block structure (Appendix B's pictures).

    Spectral clustering: affinity A = L clipped to [0, 1] (L can be negative off the diagonal);
    the leading ``n_clusters`` eigenvectors of D^(−1/2) A D^(−1/2), rows normalised, grouped by
    k-means. Clusters are listed largest first, points in index order within a cluster.
    """
    A = np.clip(np.asarray(L, dtype=np.float64), 0.0, 1.0)
    n = len(A)
    k = max(1, min(int(n_clusters), n))
    d = A.sum(axis=1)                                    # ≥ 1: the diagonal is 1
    M = A / np.sqrt(d)[:, None] / np.sqrt(d)[None, :]
    _, vecs = np.linalg.eigh(M)
    U = vecs[:, -k:]                                     # (N, k) leading eigenvectors
    U = U / np.maximum(np.linalg.norm(U, axis=1, keepdims=True), 1e-300)
    labels = _kmeans(U, k, np.random.default_rng(seed))
    sizes = np.bincount(labels, minlength=k)
    rank = np.empty(k, dtype=int)
    rank[np.argsort(-sizes, kind="stable")] = np.arange(k)   # cluster id -> position, largest first
    return np.lexsort((np.arange(n), rank[labels]))


# --- linearity --------------------------------------------------------------------------
# Is y (test loss) a straight line in x (LMN, or L2) over the generalizing phase? Pearson r
# alone cannot say: any smooth monotone curve gives r near 1. These statistics can: a quadratic
# that fits much better than a line, and residuals of the line that run in long same-signed
# stretches (Durbin–Watson far below 2), both mean "curved".

def poly_r2(x, y, degree):
    """R² of the least-squares polynomial of ``degree`` in x through (x, y); None for too few points."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if len(x) < degree + 2 or x.std() == 0 or y.std() == 0:
        return None
    xs = (x - x.mean()) / x.std()                       # conditioning: x can be ~50 and x² ~2500
    resid = y - np.polyval(np.polyfit(xs, y, degree), xs)
    return float(1.0 - (resid ** 2).sum() / ((y - y.mean()) ** 2).sum())


def durbin_watson(residuals):
    """Σ(e_t − e_{t−1})² / Σe_t² of residuals in their order (here: by step).

    About 2 when neighbouring residuals are independent; near 0 when they run in long stretches
    of one sign, which is what a straight line fitted to a curve leaves.
    """
    e = np.asarray(residuals, dtype=np.float64)
    if len(e) < 3 or not (e ** 2).sum() > 0:
        return None
    return float((np.diff(e) ** 2).sum() / (e ** 2).sum())


def ranks(v):
    """Ranks 0..n−1 of v, ties given their mean rank."""
    v = np.asarray(v, dtype=np.float64)
    order = np.argsort(v, kind="stable")
    r = np.empty(len(v))
    r[order] = np.arange(len(v))
    sv = v[order]
    for value in np.unique(sv[:-1][np.diff(sv) == 0]):       # tied values share their mean rank
        r[v == value] = r[v == value].mean()
    return r


def spearman(x, y):
    """Spearman's rank correlation (Pearson r of the ranks); None as pearson."""
    if len(x) < 3:
        return None
    return pearson(ranks(x), ranks(y))


def linearity(x, y):
    """How straight y is in x, for points in step order: a dict of

    n, r (Pearson), spearman, r2_lin, r2_quad (R² of a line and of a parabola in x),
    curve_share (the share of the line's unexplained variance that the parabola explains:
    0 = no curvature, 1 = the parabola is exact), dw (Durbin–Watson of the line's residuals).
    Values are None where too few points or a constant sequence leave them undefined.
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    out = {"n": len(x), "r": pearson(x, y), "spearman": spearman(x, y),
           "r2_lin": poly_r2(x, y, 1), "r2_quad": poly_r2(x, y, 2), "curve_share": None, "dw": None}
    if out["r2_lin"] is not None:
        a, b = np.polyfit(x, y, 1)
        out["dw"] = durbin_watson(y - (a * x + b))
        if out["r2_quad"] is not None and out["r2_lin"] < 1:
            out["curve_share"] = float((out["r2_quad"] - out["r2_lin"]) / (1 - out["r2_lin"]))
    return out


def window_arrays(rows, columns, measured="lmn_h1"):
    """Arrays of ``columns`` over the generalizing-phase rows with ``measured`` (and every column) set."""
    sel = [r for r in phase_window(rows, measured) if all(r.get(c) is not None for c in columns)]
    return {c: np.array([r[c] for r in sel], dtype=np.float64) for c in columns}


def on_grid(rows, every, column="lmn_h1"):
    """The rows of the generalizing phase at multiples of ``every`` steps with ``column`` measured."""
    return [r for r in phase_window(rows, column) if r["step"] % every == 0]
