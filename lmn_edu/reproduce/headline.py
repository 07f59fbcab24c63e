"""The numbers behind each verdict of the report, as plain dicts (no prose: sections.py renders them).

Each statistic here is one that could have come out against the paper:

- ``covariates``: is LMN a better straight-line predictor of the test loss than what any
  decreasing quantity would be (−log step, log train loss), and than L2, on the same points?
- ``after_generalization``: does LMN level off (analysis.levels_off), does it climb back (XOR)?
- ``phase_lags``: how long LMN and the test loss keep rising after the memorization step, inside
  the window called "generalizing phase".
"""
import numpy as np

from ..analysis import (LEVEL_FRACTION, LEVEL_WINDOW, levels_off, linearity, on_grid, phase_steps, spearman,
                        window_arrays)
from .fill import GRID

LEVELS_RULE = (f"the slope of LMN (a least-squares line, per 1 000 steps) over the {LEVEL_WINDOW // 1000} 000 steps "
               f"after generalization at most {LEVEL_FRACTION:g} of its slope over the generalizing phase "
               f"(analysis.levels_off: a {1 / LEVEL_FRACTION:g}-fold slow-down; a steady fall gives a ratio of 1)")

# What LMN is compared with: the quantity the paper contrasts it with (L2), and two that fall
# through the generalizing phase without saying anything about the network's function.
COVARIATES = {"lmn": "LMN", "l2": "L2", "neg_log_step": "−log step", "log_train_loss": "log train loss"}


def covariates(rows, task, layer="h1"):
    """R² of a line fitted to the test loss in each covariate, on the task's common grid through the
    generalizing phase (the points of the linearity table), and whether LMN's R² beats each.

    Returns {"n": points, "r2": {name: R² or None}, "beats": {name: True/False/None}} with names
    of COVARIATES other than "lmn" in "beats".
    """
    key = f"lmn_{layer}"
    grid = on_grid(rows, GRID[task], key)
    a = window_arrays(grid, ("test_loss", key, "l2", "step", "train_loss"), key)
    y = a["test_loss"]
    xs = {"lmn": a[key], "l2": a["l2"], "neg_log_step": -np.log(np.maximum(a["step"], 1.0)),
          "log_train_loss": np.log(np.maximum(a["train_loss"], 1e-300))}
    r2 = {name: linearity(x, y)["r2_lin"] for name, x in xs.items()}
    beats = {name: (None if r2["lmn"] is None or r2[name] is None else bool(r2["lmn"] > r2[name]))
             for name in xs if name != "lmn"}
    return {"n": len(y), "r2": r2, "beats": beats}


def _largest_rise(values):
    """The largest rise of a sequence above its running minimum."""
    v = np.asarray(values, dtype=np.float64)
    return float((v - np.minimum.accumulate(v)).max()) if len(v) else None


def after_generalization(rows, layer="h1"):
    """One run after its generalization step: LMN there and at the end, levels_off, the largest rise
    of LMN and L2 above their running minimum, and the rebound (the highest LMN after the first
    minimum after generalization) against the run's LMN peak up to generalization.

    None when the run never generalized.
    """
    mem, gen = phase_steps(rows)
    key = f"lmn_{layer}"
    pts = [(r["step"], r[key]) for r in rows if r.get(key) is not None]
    if gen is None or not pts:
        return None
    steps, values = map(np.array, zip(*pts))
    after = steps >= gen
    if not after.any():
        return None
    va, sa = values[after], steps[after]
    low = int(np.argmin(va[: max(1, len(va) // 2)]))          # the trough after generalization
    top = low + int(np.argmax(va[low:]))                      # the highest value after the trough
    peak = float(values[steps <= gen].max()) if (steps <= gen).any() else None
    l2 = [r["l2"] for r in rows if r["step"] >= gen and r.get("l2") is not None]
    return {"gen_step": gen, "at": (int(sa[0]), float(va[0])), "end": (int(sa[-1]), float(va[-1])),
            "change": float(va[-1] / va[0] - 1), "levels": levels_off(steps, values, gen, mem),
            "lmn_rise": _largest_rise(va), "l2_rise": _largest_rise(l2), "l2_at_gen": l2[0] if l2 else None,
            "trough": (int(sa[low]), float(va[low])), "rebound": (int(sa[top]), float(va[top])),
            "peak_before": peak, "rebound_of_peak": None if not peak else float(va[top] / peak),
            "fall_from_rebound": float(1 - va[-1] / va[top])}


def phase_lags(rows, layer="h1"):
    """How long after memorization LMN and the test loss still rise: the steps of their highest values
    within the generalizing phase, less the memorization step, and ``lmn_fall``: Spearman's ρ of LMN
    against step from its peak in the phase to the phase's end (−1: it only falls). None when the
    run never memorized."""
    mem, gen = phase_steps(rows)
    if mem is None:
        return None
    end = gen if gen is not None else rows[-1]["step"]
    out = {"mem_step": mem, "end": end, "generalized": gen is not None, "lmn_fall": None}
    for name, key in (("lmn", f"lmn_{layer}"), ("test_loss", "test_loss")):
        pts = [(r[key], r["step"]) for r in rows if mem <= r["step"] <= end and r.get(key) is not None]
        top = max(range(len(pts)), key=lambda i: pts[i][0]) if pts else None     # the first highest value
        out[name] = (pts[top][1] - mem) if pts else None
        if name == "lmn" and len(pts) >= 3:                          # from the phase's LMN peak to its end
            v, st = zip(*pts[top:])
            out["lmn_fall"] = spearman(st, v) if len(v) >= 3 else None
    return out


def spread(values):
    """The seeds' sample standard deviation (ddof 1); None for fewer than two values."""
    v = [x for x in values if x is not None]
    return float(np.std(v, ddof=1)) if len(v) > 1 else None


def outcome(flags):
    """"reproduced" (every seed), "partly", "not" (no seed) or "not tested" (no data), and the seeds
    it rests on."""
    flags = [f for f in flags if f is not None]
    if not flags:
        return "not tested", 0
    k = sum(flags)
    return ("reproduced" if k == len(flags) else "not" if k == 0 else "partly"), len(flags)
