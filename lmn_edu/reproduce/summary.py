"""One run's numbers for the report (phases, LMN peak and late value, XOR turns, linearity) and
the criteria by which a number counts as agreeing with the paper."""
import numpy as np

from ..analysis import column, first_step, linearity, on_grid, phase_steps, turning_points, window_arrays
from ..analysis import LEVEL_FRACTION
from .fill import GRID, grid_steps
from .headline import after_generalization, covariates, phase_lags

# What the paper states or shows (arXiv 2310.05918), as the table quotes it; "read from Fig 2 by
# eye" marks numbers that we read off a figure, not numbers the paper prints.
PAPER = {
    "add": {"mem_step": "≈150–200 (Fig 2, by eye; App. B's snapshot: 200)",
            "gen_step": "App. B labels its generalization snapshot “step 7600”",
            "lmn_peak": "≈53 (Fig 2, by eye)", "lmn_15k": "≈12 (Fig 2, by eye)"},
    "s4": {"mem_step": "shown in Fig 2, not stated", "gen_step": "shown in Fig 2, not stated"},
    "xor": {"turns": "15 and 20 (text)"},
    "r_lmn": "“strong linear relation” (text; no r given)",
    "r_l2": "“correlated … in a complicated nonlinear way” (text)",
    "l2_vs_lmn": "LMN “more linearly correlated with test loss” than L2 (Sec. 3)",
    "levels": "“starts to level off after grokking” (abstract)",
}
NO_NUMBER = "shown in Fig 2, no number stated (not read off here: no verdict)"

# When "ours" counts as agreeing with the paper (stated in the report): (low, high, why that width).
# The numbers read by eye get the width of a reading off the paper's figure; a result nearer a
# band edge than the seeds' own spread (their sample SD) is marked "at the edge": another seed
# could as well have fallen on the other side.
BANDS = {
    "mem_step": (100, 300, "the paper's ≈150–200 is read by eye off a log-step axis, where a tick spans a "
                 "factor of 10; 100–300 is that reading ±50%"),
    "gen_step": (0.75 * 7600, 1.25 * 7600, "±25% of 7600, the label of one snapshot of the paper's one run, "
                 "not a measured step: a band as wide as a step read off its log axis"),
    "lmn_peak": (0.85 * 53, 1.15 * 53, "±15% of 53: ±8 on the paper's linear LMN axis (0–60), "
                 "the thickness of its curves and their wiggle near the peak"),
    "lmn_15k": (0.75 * 12, 1.25 * 12, "±25% of 12: ±3, the same reading error as at the peak"),
}
CRITERIA = {k: (f"within {lo:g}–{hi:g} ({why})", (lambda v, lo=lo, hi=hi: lo <= v <= hi))
            for k, (lo, hi, why) in BANDS.items()}
CRITERIA["turns"] = ("a minimum within ±2 of 15, then a maximum within ±2 of 20 (the paper's integers "
                     "15 and 20, ±2 for reading them off a curve)", None)
# A verdict needs enough LMN values: r from fewer points, or turns from a sparser curve, is "no data".
MIN_R_POINTS = 8
MIN_TURN_POINTS = 20


def value_near(rows, key, step):
    """(step, value) of the measured row nearest to ``step``; None if nothing was measured."""
    pts = [(abs(r["step"] - step), r["step"], r[key]) for r in rows if r.get(key) is not None]
    return min(pts)[1:] if pts else None


def grid_linearity(rows, task, layer="h1"):
    """Linearity (analysis.linearity) of test loss and log test loss in LMN and in L2, on the task's
    common grid through the generalizing phase: {"lmn": ..., "l2": ..., "lmn_log": ..., "l2_log": ...}."""
    grid = on_grid(rows, GRID[task], f"lmn_{layer}")
    a = window_arrays(grid, ("test_loss", f"lmn_{layer}", "l2"), f"lmn_{layer}")
    y, logy = a["test_loss"], np.log(np.maximum(a["test_loss"], 1e-300))
    return {"lmn": linearity(a[f"lmn_{layer}"], y), "l2": linearity(a["l2"], y),
            "lmn_log": linearity(a[f"lmn_{layer}"], logy), "l2_log": linearity(a["l2"], logy),
            "grid": GRID[task], "steps": [r["step"] for r in grid], "n_grid": len(grid_steps(rows, GRID[task]))}


def summarize(rows, task, layer="h1"):
    """One run's row of the table: phase steps, LMN peak, LMN at 15k, XOR turns, r on all LMN rows
    of the generalizing phase (``r_lmn``, ``r_l2``) and the linearity on the common grid (``lin``)."""
    mem, gen = phase_steps(rows)
    key = f"lmn_{layer}"
    steps, values = column(rows, key)
    out = {"mem_step": mem, "gen_step": gen, "gen99_step": first_step(rows, "test_acc", 0.99),
           "final_test_acc": rows[-1]["test_acc"] if rows else None, "n_lmn": len(values),
           "lmn_peak": None, "lmn_peak_step": None, "lmn_15k": None, "lmn_15k_step": None,
           "lmn_end": None, "turns": [], "r_lmn": None, "r_l2": None, "n_r": 0}
    if values:
        k = int(np.argmax(values))
        out["lmn_peak"], out["lmn_peak_step"] = float(values[k]), int(steps[k])
        near = value_near(rows, key, 15_000)
        if near is not None and abs(near[0] - 15_000) <= 1000:
            out["lmn_15k_step"], out["lmn_15k"] = near
        out["lmn_end"] = (steps[-1], values[-1])
    if task == "xor" and mem is not None:
        # the paper's turns: LMN falls to a minimum around generalization, rises briefly, falls again
        out["turns"] = turning_points(steps, values, after=mem)
    a = window_arrays(rows, ("test_loss", key, "l2"), key)
    out["n_r"] = len(a["test_loss"])
    out["r_lmn"] = linearity(a[key], a["test_loss"])["r"]
    out["r_l2"] = linearity(a["l2"], a["test_loss"])["r"]
    out["lin"] = grid_linearity(rows, task, layer)
    out["cov"] = covariates(rows, task, layer)
    out["after"] = after_generalization(rows, layer)
    out["levels_ratio"] = out["after"]["levels"]["ratio"] if out["after"] else None
    out["lags"] = phase_lags(rows, layer)
    return out


def agree(key, s):
    """Does summary ``s`` meet CRITERIA[key]? None where there is not enough data to say."""
    if key in ("beats_all", "beats_l2"):
        b = s["cov"]["beats"] if key == "beats_all" else {"l2": s["cov"]["beats"]["l2"]}
        return None if None in b.values() or s["cov"]["n"] < MIN_R_POINTS else all(b.values())
    if key == "levels_off":
        return None if s["after"] is None else s["after"]["levels"]["levels_off"]
    if key == "turns":
        if s["mem_step"] is None or s["n_lmn"] < MIN_TURN_POINTS:
            return None
        t = {k: v for k, _, v in s["turns"]}
        return "min" in t and "max" in t and abs(t["min"] - 15) <= 2 and abs(t["max"] - 20) <= 2
    v = s.get(key)
    return None if v is None else bool(CRITERIA[key][1](v))


# The edges a verdict can fall either side of: the bands, and levels_off's ratio (|ratio| ≤ the fraction).
EDGES = {**{k: (lo, hi) for k, (lo, hi, _) in BANDS.items()}, "levels_off": (-LEVEL_FRACTION, LEVEL_FRACTION)}


def at_edge(key, values):
    """Per value: is it nearer an edge of EDGES[key] than the seeds' sample SD (None: no edge or no SD)?"""
    if key not in EDGES:
        return [None] * len(values)
    lo, hi = EDGES[key]
    known = [v for v in values if v is not None]
    sd = float(np.std(known, ddof=1)) if len(known) > 1 else None
    return [None if v is None or sd is None else bool(min(abs(v - lo), abs(v - hi)) < sd) for v in values]


def verdict(flags, edges=()):
    """"agrees (k/n seeds)", "partly …", "differs …" or "not tested" (no seed with data); "; e at the band's edge" when
    ``edges`` marks any seed with a verdict as nearer an edge than the seeds' spread."""
    pairs = [(f, e) for f, e in zip(flags, list(edges) + [None] * len(flags)) if f is not None]
    if not pairs:
        return "not tested"
    k = sum(f for f, _ in pairs)
    n_edge = sum(bool(e) for _, e in pairs)
    word = "agrees" if k == len(pairs) else ("differs" if k == 0 else "partly")
    return f"{word} ({k}/{len(pairs)} seeds" + (f"; {n_edge} at the band's edge)" if n_edge else ")")
