"""The report's sections after the main table: linearity, after generalization, readings, the
Sec. 2 sanity checks, the S4 study, and the coverage of the paper's claims."""
import inspect
import json
import math
from pathlib import Path

import numpy as np

from ..analysis import column, phase_steps
from ..errors import LMNInputError
from .readings import OURS, READINGS, appendix_b, load_readings, sanity_checks

PAPER_PEAK, PAPER_15K = 53, 12          # addition, read from the paper's Fig 2 by eye


def load_extras(results):
    """readings.json, appendix_b.npz and s4_study.json of ``results`` (each may be absent), checked."""
    path = Path(results) / "s4_study.json"
    study = []
    if path.exists():
        try:
            study = json.loads(path.read_text())
            assert isinstance(study, list) and all(isinstance(d, dict) and "gen_step" in d for d in study)
        except (OSError, ValueError, AssertionError):
            raise LMNInputError(f"{path}: not readable or malformed (a list of runs with gen_step)") from None
    return {"readings": load_readings(results), "appendix_b": appendix_b(results), "s4_study": study}


def _f(v, d=3):
    return "—" if v is None else f"{v:.{d}f}"


def _count(pairs, test):
    kept = [p for p in pairs if None not in p]
    return sum(1 for p in kept if test(*p)), len(kept)


def linearity(summ, grid):
    """Per run: is test loss a straight line in LMN, and in L2? On each task's common grid."""
    md = ["## Linearity: is test loss a straight line in LMN?", "",
          "The paper says LMN has “a strong linear relation” with the test loss in the generalizing phase and "
          "L2 a “complicated nonlinear” one. A Pearson r near 1 cannot tell a line from a smooth monotone "
          "curve, so each run is fitted with a line and with a parabola: R² of both, the share of what the "
          "line leaves unexplained that the parabola explains (“curve share”: 0 no curvature, 1 the parabola is "
          "exact), and the Durbin–Watson statistic of the line's residuals in step order (about 2 for "
          "independent residuals, near 0 when they run in long one-signed stretches, as a line through a "
          "curve leaves). Points: every LMN value of the generalizing phase on a common uniform grid per task ("
          + ", ".join(f"{t}: every {g} steps" for t, g in grid.items())
          + "), the same steps for every seed of a task, so that r does not depend on where LMN happened to be "
          "measured.", "",
          "| run | grid points measured | LMN: r | R² line | R² parabola | curve share | DW | L2: r | R² line | R² parabola | "
          "curve share | DW | Spearman LMN / L2 | r with log test loss: LMN / L2 |",
          "|---|" + "---|" * 13]
    lins = []
    for t, by in summ.items():
        for s, sm in by.items():
            if sm is None:
                continue
            a, b, la, lb = (sm["lin"][k] for k in ("lmn", "l2", "lmn_log", "l2_log"))
            lins.append((t, s, a, b, la, lb))
            md.append(f"| {t} seed {s} | {a['n']} of {sm['lin']['n_grid']} | " + " | ".join(
                _f(d[k]) if k != "dw" else _f(d[k], 2) for d in (a, b) for k in ("r", "r2_lin", "r2_quad", "curve_share", "dw"))
                + f" | {_f(a['spearman'])} / {_f(b['spearman'])} | {_f(la['r'])} / {_f(lb['r'])} |")
    if not lins:
        return md + ["", "*No run to analyse.*", ""]
    dws = [a["dw"] for *_, a, b, la, lb in lins if a["dw"] is not None]
    cs = [a["curve_share"] for *_, a, b, la, lb in lins if a["curve_share"] is not None]
    k_r, n_r = _count([(a["r"], b["r"]) for *_, a, b, la, lb in lins], lambda x, y: x > y)
    diffs = [a["r"] - b["r"] for *_, a, b, la, lb in lins if a["r"] is not None and b["r"] is not None]
    k_log, n_log = _count([(la["r"], lb["r"]) for *_, a, b, la, lb in lins], lambda x, y: x > y)
    k_sp, n_sp = _count([(a["spearman"], b["spearman"]) for *_, a, b, la, lb in lins], lambda x, y: min(x, y) >= 0.99)
    md += ["", "Read off the table (all runs with data):", "",
           f"- Durbin–Watson of LMN's line residuals: {min(dws):.2f}–{max(dws):.2f} (2 would mean no pattern)."
           if dws else "- Durbin–Watson: no data.",
           f"- Curve share for LMN: {min(cs):.2f}–{max(cs):.2f}, above 0.5 in {sum(c > 0.5 for c in cs)} of "
           f"{len(cs)} runs." if cs else "- Curve share: no data.",
           f"- r(LMN) > r(L2) in {k_r} of {n_r} runs; r(LMN) − r(L2) from {min(diffs):+.3f} to {max(diffs):+.3f} "
           f"(median {float(np.median(diffs)):+.3f})." if diffs else "- r(LMN) against r(L2): no data.",
           f"- Against log test loss, r(LMN) > r(L2) in {k_log} of {n_log} runs.",
           f"- Spearman ≥ 0.99 for both LMN and L2 in {k_sp} of {n_sp} runs (both fall monotonically with the "
           "test loss there).", ""]
    return md


def _nearest(rows, key, step, after=True):
    pts = [(r["step"], r[key]) for r in rows if r.get(key) is not None and (r["step"] >= step or not after)]
    return min(pts, key=lambda p: abs(p[0] - step)) if pts else None


def _largest_rise(values):
    """The largest rise of a sequence above its running minimum."""
    v = np.asarray(values, dtype=np.float64)
    return float((v - np.minimum.accumulate(v)).max()) if len(v) else None


def after_generalization(runs, summ):
    """Does LMN level off after grokking (add, S4)? Does L2 show XOR's bump? The emb plateau (Fig 3)."""
    md = ["## After generalization", "",
          "The paper: “For modular addition and permutation, the LMN starts to level off after grokking”; for "
          "XOR “LMN also reveals … the XOR network switching between two generalization solutions, while L2 "
          "does not” (abstract). Per run: LMN at the first LMN step at or after the generalization step and at "
          "the last LMN step; the largest rise of LMN and of L2 above their running minimum after generalization "
          "(a bump; in L2 units for L2).", "",
          "| run | generalization step | LMN there (step) | LMN at the end (step) | change | largest rise after: LMN | L2 (L2 at gen.) |",
          "|---|---|---|---|---|---|---|"]
    for t, by in runs.items():
        for s, r in by.items():
            if r is None:
                continue
            rows = r[1]
            gen = summ[t][s]["gen_step"]
            if gen is None:
                md.append(f"| {t} seed {s} | not reached | — | — | — | — | — |")
                continue
            at, end = _nearest(rows, "lmn_h1", gen), summ[t][s]["lmn_end"]
            after = [x for x in rows if x["step"] >= gen]
            lmn_rise = _largest_rise([x["lmn_h1"] for x in after if x.get("lmn_h1") is not None])
            l2_rise = _largest_rise([x["l2"] for x in after if x.get("l2") is not None])
            change = f"{(end[1] - at[1]) / at[1]:+.0%}" if at and end else "—"
            md.append(f"| {t} seed {s} | {gen} | {_f(at[1], 1)} ({at[0]}) | {_f(end[1], 1)} ({end[0]}) | {change} | "
                      f"{_f(lmn_rise, 1)} | {_f(l2_rise, 2)} ({_f(after[0]['l2'], 1)}) |")
    add0 = (runs.get("add") or {}).get(0)
    if add0 and any(x.get("lmn_emb") is not None for x in add0[1]):
        rows = add0[1]
        mem, gen = phase_steps(rows)
        pts = {k: [_nearest(rows, f"lmn_{k}", mem), _nearest(rows, f"lmn_{k}", gen or rows[-1]["step"]),
                   column(rows, f"lmn_{k}")] for k in ("emb", "h1")}
        md += ["", "Fig 3's plateau (add seed 0, the only run with emb measured): "
               + "; ".join(f"LMN({k}) {p[0][1]:.1f} at step {p[0][0]} (memorization), {p[1][1]:.1f} at step "
                           f"{p[1][0]} (generalization), {p[2][1][-1]:.1f} at step {p[2][0][-1]}"
                           for k, p in pts.items() if p[0] and p[1]) + "."]
    return md + [""]


def _paper_distance(vals):
    """Mean |log(ours / paper)| over the early peak (largest at steps ≤ 1000) and the value at 15k."""
    early = [v for s, v in vals.items() if s <= 1000]
    if not early or 15000 not in vals:
        return None
    return (abs(math.log(max(early) / PAPER_PEAK)) + abs(math.log(vals[15000] / PAPER_15K))) / 2


def readings(rd):
    """LMN of the same params under each reading, for every seed measured."""
    if not rd:
        return []
    steps = sorted({d["step"] for d in rd})
    seeds = sorted({d["seed"] for d in rd})
    names = [n for n in READINGS if any(d["reading"] == n for d in rd)]
    val = {(d["reading"], d["seed"], d["step"]): d["lmn"] for d in rd}
    md = ["## Readings that move the numbers", "",
          f"The same params (add, seeds {', '.join(map(str, seeds))}), LMN under each reading; cells list the "
          "seeds in order, separated by “ / ”. What the paper states: LMN of the first hidden layer to the "
          "output logits (Sec. 3, footnote 3) with the absolute values of negative eigenvalues (Sec. 2). What "
          f"we chose, because the paper does not say: the training points and float64 (“{OURS}”). The other "
          "readings are options (`--lmn-points`, `--lmn-output`, `--dtype`); clipping negative eigenvalues is "
          "measured here only.", "",
          "| reading | " + " | ".join(f"step {s}" for s in steps) + " |", "|---|" + "---|" * len(steps)]
    for n in names:
        cell = n.replace("|", "\\|")                      # |μ| inside a table cell
        md.append(f"| {cell} | " + " | ".join(" / ".join(_f(val.get((n, sd, st)), 1) for sd in seeds) for st in steps) + " |")
    md += ["", "Distance to the paper's addition values read from its Fig 2 (mean |log(ours / paper)| over the "
           f"early peak, the largest value at steps ≤ 1000 here, against {PAPER_PEAK}, and the value at 15k "
           f"against {PAPER_15K}), per seed:", ""]
    dist = {n: [_paper_distance({st: val[(n, sd, st)] for st in steps if (n, sd, st) in val}) for sd in seeds]
            for n in names}
    for n, ds in dist.items():
        md.append(f"- {n}: " + " / ".join(_f(d) for d in ds))
    ours = [d for d in dist.get(OURS, []) if d is not None]
    if len(ours) > 1:
        md += ["", f"The spread of our own reading between seeds is {max(ours) - min(ours):.3f} (max − min of "
               "its distances): a reading closer to the paper than ours by less than that is not closer in "
               "any way these runs can show."]
    return md + [""]


def sanity():
    md = ["## Sec. 2 / Fig 1: the definition on maps whose answer is known", "",
          "| map | expected | ours |", "|---|---|---|"]
    md += [f"| {what} | {expected} | {value:.3g} |" for what, expected, value in sanity_checks()]
    return md + ["", "LMN is 1 for an affine map and L is 0 for a symmetric parabola, as Sec. 2 says. LMN is not "
                 "a count of linear pieces: a 1-D map with two pieces already gives several “linear mappings”, "
                 "because a line across a kink is partly linear and L takes every value between 0 and 1.", ""]


def _study_cell(d):
    if d is None:
        return "—"
    if d["gen_step"] is None:
        return f"never (final {d['final_test_acc']:.3f}, best {d['best_test_acc']:.3f})"
    return f"{d['gen_step']}" + ("" if d["final_test_acc"] >= 1 else f" (final {d['final_test_acc']:.3f})")


def _precision_section(results, figdir):
    """The S4 precision study's own section, when its module and its results are there."""
    try:
        from . import s4_report as study
    except ImportError:
        return []
    if not (Path(results) / "s4_precision").exists():
        return []
    kwargs = {"figdir": figdir} if "figdir" in inspect.signature(study.section).parameters else {}
    return list(study.section(results, **kwargs))


def s4(runs, extras, results, figdir):
    """The committed S4 split × init study (s4_study.json), then the precision study if present."""
    sd = [dict(d) for d in extras["s4_study"]]
    md = []
    if sd:
        for seed, r in (runs.get("s4") or {}).items():           # the plain runs are the diagonal
            if r and not any(d["split_seed"] == d["init_seed"] == seed and d["dtype"] == r[0].get("dtype")
                             and d["steps"] == r[0].get("steps") for d in sd):
                mem, gen = phase_steps(r[1])
                sd.append({"split_seed": seed, "init_seed": seed, "dtype": r[0].get("dtype"), "steps": r[0].get("steps"),
                           "mem_step": mem, "gen_step": gen, "final_test_acc": r[1][-1]["test_acc"],
                           "best_test_acc": max(x["test_acc"] for x in r[1])})
        md += ["## S4: split against init", "",
               "S4 trained with the split of one seed and the init of another (the diagonal is the plain run of "
               "that seed), no LMN, accuracy every 100 steps. Cell: the first step with test accuracy 1 (and the "
               "final test accuracy when it falls back below 1), or, when it never reaches 1, the final and the "
               "best test accuracy. Few cells: one good init against two, not enough to rank split against init.", ""]
        for dtype, steps in dict.fromkeys((d["dtype"], d["steps"]) for d in sd):
            cells = {(d["split_seed"], d["init_seed"]): d for d in sd if (d["dtype"], d["steps"]) == (dtype, steps)}
            inits = sorted({b for _, b in cells})
            md += [f"**{dtype}, {steps} steps**", "",
                   "| split seed \\ init seed | " + " | ".join(map(str, inits)) + " |", "|---|" + "---|" * len(inits)]
            md += [f"| {a} | " + " | ".join(_study_cell(cells.get((a, b))) for b in inits) + " |"
                   for a in sorted({a for a, _ in cells})] + [""]
    return md + _precision_section(results, figdir)


# (where in the paper, claim, status, where in this report)
CLAIMS = (
    ("Abstract, Sec. 3", "LMN decreases steadily after memorization and before generalization",
     "tested", "Fig 2; table (LMN peak, LMN at 15k); Linearity (Spearman)"),
    ("Abstract, Sec. 3", "LMN has a strong linear relation with test loss in that phase",
     "tested", "Linearity: r is high, a straight line is not what the data show"),
    ("Abstract, Sec. 3", "L2 is correlated with test loss in a complicated nonlinear way",
     "tested", "table (r of L2); Linearity"),
    ("Sec. 3", "LMN is more linearly correlated with test loss than L2", "tested", "Linearity (r(LMN) − r(L2), log test loss)"),
    ("Abstract", "for addition and S4, LMN levels off after grokking", "partly",
     "After generalization (addition; S4 does not generalize within 20k here)"),
    ("Abstract, Sec. 3", "XOR: LMN shows a double descent after grokking", "tested", "XOR figure; table (turning points)"),
    ("Sec. 3", "XOR's turning points are 15 and 20 (5 × 3 and 5 × 4)", "tested", "table (turning points)"),
    ("Sec. 3", "the XOR bump is the network switching between two near-degenerate solutions", "not tested",
     "an interpretation; we did not inspect the solutions"),
    ("Abstract", "L2 does not reveal XOR's switch", "partly", "After generalization (largest rise of L2)"),
    ("Sec. 2, Fig 1", "LMN generalizes the linear-region count; 1 for a linear map; L = 0 for a symmetric parabola",
     "partly", "Sec. 2 / Fig 1 checks (affine and parabola hold; it does not count pieces)"),
    ("Sec. 2", "L is almost positive semi-definite, a few small negative eigenvalues (absolute values taken)",
     "tested", "Appendix B (eigenvalues); Readings (clipped to 0 instead)"),
    ("Fig 2", "the three tasks' accuracy, LMN and L2 curves, phases as defined", "tested",
     "Fig 2 (3 seeds each); S4 does not reach test accuracy 1 in 20k"),
    ("Fig 3 / App. A", "only h1's LMN tracks the hidden progress; emb and h2 plateau quickly after memorization",
     "partly", "Fig 3 (seed 0; LMN(h2 → logits) is 1 by the affine-prefix identity); After generalization (emb)"),
    ("Fig 4 / App. B", "L at init is strongly connected, less at memorization (step 200), more at generalization (7600)",
     "tested", "Appendix B (seed 0 only; 7600 is the paper's label, our seed 0 generalizes at another step)"),
    ("Sec. 1, 4", "LMN as information / computation complexity, a Kolmogorov-complexity candidate", "not tested",
     "a conceptual claim"),
)


def coverage():
    md = ["## Coverage of the paper's claims", "",
          "| where in the paper | claim | status | where here |", "|---|---|---|---|"]
    md += [f"| {w} | {c} | {s} | {h} |" for w, c, s, h in CLAIMS]
    return md + [""]
