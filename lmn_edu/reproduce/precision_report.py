"""The S4 precision study, read back: the report's section, its figure and the verdict on
Softmax Collapse (the runs themselves: s4.py). Every number is computed from the run folders."""
from pathlib import Path

import numpy as np

from lmn_edu.precision import collapse_margin

from .precision_study import EARLY, HOLD, LABELS, OUT, SEEDS, STABLE, STEPS, VARIANTS, stable_generalization


# --- reading the study --------------------------------------------------------------------

def study_folder(results):
    """The study's folder from ``results``: results/paper (holding s4_precision/) or the folder itself."""
    results = Path(results)
    return results / OUT if (results / OUT).is_dir() else results


def load_study(results):
    """{variant: {seed: rows}} of the finished runs, and [(name, last step)] of unfinished ones.

    A run is finished when it has the finished marker (rundir.finished: its last step, or the
    early stop once it generalized and held it); an interrupted run is listed as unfinished.
    """
    from lmn_edu.rundir import finished, load_run
    folder = study_folder(results)
    runs, unfinished, steps, backends = {v: {} for v in VARIANTS}, [], set(), set()
    for run in sorted(folder.glob("s*-*")) if folder.is_dir() else []:
        seed, _, variant = run.name[1:].partition("-")
        if variant not in VARIANTS or not seed.isdigit() or not (run / "config.json").exists():
            continue
        config, rows = load_run(run)
        if not finished(run):
            unfinished.append((run.name, rows[-1]["step"] if rows else 0))
            continue
        runs[variant][int(seed)] = rows
        steps.add(config["steps"])
        backends.add(config.get("backend") or "unrecorded")
    return {"runs": runs, "unfinished": unfinished, "steps": sorted(steps), "backends": sorted(backends)}


def summarize(rows):
    """One run in numbers: its generalization steps, how it ended, its diagnostics.

    ``collapse``: the first step with a training sample at exactly zero loss, and the largest
    share of such samples (with its step). ``lost``: the first step after test accuracy first
    reached 1 where it fell below STABLE again, and ``zero_before_lost`` the share of samples at
    zero loss at the evaluation before it.
    """
    from lmn_edu.analysis import phase_steps
    mem, reach = phase_steps(rows)
    gen = stable_generalization(rows)
    cols = ("zero_loss_frac", "zero_grad_frac", "rounded_update_frac", "max_margin")
    diag = {c: [(r["step"], r[c]) for r in rows if r.get(c) is not None] for c in cols}
    window = [r for r in rows if mem is not None and r["step"] >= mem and (gen is None or r["step"] <= gen)]
    zero = diag["zero_loss_frac"]
    peak = max(zero, key=lambda p: p[1]) if zero else (None, None)
    lost = None if reach is None else next(
        (r["step"] for r in rows if r["step"] > reach and r.get("test_acc") is not None and r["test_acc"] < STABLE),
        None)
    before_lost = [x for st, x in zero if lost is not None and st < lost]
    return {"mem": mem, "reach": reach, "gen": gen, "last": rows[-1]["step"], "lost": lost,
            "final_acc": rows[-1]["test_acc"],
            "zero_before_lost": before_lost[-1] if before_lost else None,
            "max": {c: max(x for _, x in v) if v else None for c, v in diag.items()},
            "rows_nonzero": {c: sum(x > 0 for _, x in v) for c, v in diag.items()},
            "rows": {c: len(v) for c, v in diag.items()},
            "collapse": next((st for st, x in zero if x > 0), None), "peak": peak,
            "phase_mean": {c: (float(np.mean([r[c] for r in window if r.get(c) is not None]))
                               if any(r.get(c) is not None for r in window) else None) for c in cols},
            "min_train_loss": min(r["train_loss"] for r in rows)}


ACC_TOL = 0.02                           # test accuracies "differ": by 3 of S4's 116 test pairs
LOSS_RATIO = 1.25                        # train losses "differ": by more than this factor


def parting_step(rows_a, rows_b, column):
    """The first step both runs evaluated where ``column`` differs: test accuracy by more than
    ACC_TOL, a loss by more than a factor LOSS_RATIO. None if they never part (as far as both ran)."""
    b = {r["step"]: r.get(column) for r in rows_b}
    for r in rows_a:
        x, y = r.get(column), b.get(r["step"])
        if x is None or y is None:
            continue
        if column == "test_acc":
            if abs(x - y) > ACC_TOL:
                return r["step"]
        elif max(x, y) > LOSS_RATIO * min(x, y):
            return r["step"]
    return None


def _fmt(x):
    return "–" if x is None else f"{x:,}".replace(",", "\u202f")


def _frac(x):
    if x is None:
        return "–"
    return "0" if x == 0 else f"{x:.2g}"


def _dist(steps):
    """'median m (min–max)' of the steps that exist."""
    got = sorted(s for s in steps if s is not None)
    if not got:
        return "none"
    return f"median {_fmt(int(np.median(got)))} ({_fmt(got[0])}–{_fmt(got[-1])})"


def _mx(sm, column):
    vals = [x["max"][column] for x in sm if x["max"][column] is not None]
    return max(vals) if vals else None


COLOURS = {"float32": "tab:blue", "float64": "tab:orange", "float32-loss64": "tab:green"}
PANELS = (("test_acc", "test accuracy", "linear"),
          ("zero_loss_frac", "share of train samples\nwith loss exactly 0", "linear"),
          ("rounded_update_frac", "share of param entries\nwhose update rounds away", "symlog"),
          ("max_margin", "largest correct-class\nmargin (train)", "linear"))


def _curves(axes, variant, runs, end):
    """One precision's runs in its column of panels (a column each: the remedy's runs follow
    float64's so closely that drawn on one panel, one hides the other)."""
    for seed, rows in sorted(runs.items()):
        steps = [r["step"] for r in rows]
        for ax, (col, _, _) in zip(axes, PANELS):
            ax.plot(steps, [r.get(col) for r in rows], color=COLOURS[variant], lw=0.8, alpha=0.75)
    axes[0].set_title(LABELS[variant], fontsize=10, color=COLOURS[variant])
    for dtype in ("float32", "float64"):
        m = collapse_margin(dtype)
        axes[3].axhline(m, color="grey", lw=0.8, ls="--")
        axes[3].text(0, m, f" {dtype} collapse", va="bottom", fontsize=7, color="grey")
    for ax, (_, label, scale) in zip(axes, PANELS):
        ax.set_xlim(0, end * 1.08)
        ax.axvline(EARLY, color="grey", lw=0.6, ls=":")
        if scale == "symlog":
            ax.set_yscale("symlog", linthresh=1e-5)
            ax.set_ylim(bottom=0)
    axes[-1].set_xlabel("step")


def _generalization_marks(ax, study, end):
    for k, (variant, runs) in enumerate(study["runs"].items()):
        for seed, rows in sorted(runs.items()):
            g = stable_generalization(rows)
            ax.plot(g if g is not None else end * 1.04, k + 0.25 * ((seed % 5) - 2) / 2, "o" if g else "x",
                    color=COLOURS[variant], ms=5)
    ax.set_yticks(range(len(study["runs"])), [LABELS[v] for v in study["runs"]])
    ax.set_xlim(0, end * 1.08)
    ax.axvline(EARLY, color="grey", lw=0.6, ls=":")
    ax.set_xlabel("generalization step (x: not within the run)")


def figure(study, path):
    """Test accuracy, zero-loss share, rounded-update share and margin against step, every run, one
    column per precision; below, each run's generalization step per precision."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    variants = list(study["runs"])
    end = max(study["steps"] or [EARLY])
    fig = plt.figure(figsize=(13, 13))
    grid = fig.add_gridspec(len(PANELS) + 1, len(variants))
    columns = [[fig.add_subplot(grid[i, j]) for i in range(len(PANELS))] for j in range(len(variants))]
    for j, variant in enumerate(variants):
        _curves(columns[j], variant, study["runs"][variant], end)
    for i, (_, label, _) in enumerate(PANELS):              # one y range per row, so columns compare
        lo = min(c[i].get_ylim()[0] for c in columns)
        hi = max(c[i].get_ylim()[1] for c in columns)
        for c in columns:
            c[i].set_ylim(lo, hi)
        columns[0][i].set_ylabel(label)
    _generalization_marks(fig.add_subplot(grid[len(PANELS), :]), study, end)
    fig.suptitle("S4: float32 against float64, every seed run (one line or mark per run)")
    fig.tight_layout()
    from lmn_edu.files import write_figure
    write_figure(fig, path, dpi=100)
    plt.close(fig)


# --- the study in numbers (plain dicts; the renderers below write them out) -----------------

def study_numbers(study):
    """Everything the section states, computed from the study's runs: a dict of plain numbers."""
    runs = study["runs"]
    summ = {v: {s: summarize(r) for s, r in rs.items()} for v, rs in runs.items()}
    seeds = {v: sorted(rs) for v, rs in runs.items()}
    paired = sorted(set(seeds["float32"]) & set(seeds["float64"]))
    return {"summ": summ, "seeds": seeds, "paired": paired, "steps": study["steps"],
            "backends": study.get("backends") or ["torch"],
            "unfinished": study["unfinished"], "counts": {v: _counts(summ[v]) for v in VARIANTS},
            "parting": {s: (summ["float32"][s]["collapse"], parting_step(runs["float32"][s], runs["float64"][s], "test_acc"),
                            parting_step(runs["float32"][s], runs["float64"][s], "train_loss")) for s in paired},
            "diagnostics": {v: _diagnostics(summ[v], v) for v in VARIANTS if summ[v]},
            "verdict": verdict_numbers(summ, runs)}


def _counts(sm):
    """Per precision: runs, how many reach test accuracy 1, generalize, within 20k; the steps."""
    gens = [x["gen"] for x in sm.values()]
    return {"runs": len(sm), "reach": sum(x["reach"] is not None for x in sm.values()),
            "gen": sum(g is not None for g in gens), "gen_early": sum(g is not None and g <= EARLY for g in gens),
            "gen_steps": gens, "reach_steps": [x["reach"] for x in sm.values()]}


def _diagnostics(sm, variant):
    sm = list(sm.values())
    dtype = "float64" if variant != "float32" else "float32"
    return {"runs": len(sm), "collapsed": sum(x["collapse"] is not None for x in sm),
            "collapse_steps": [x["collapse"] for x in sm], "zero_loss": _mx(sm, "zero_loss_frac"),
            "zero_grad": _mx(sm, "zero_grad_frac"), "rounded": _mx(sm, "rounded_update_frac"),
            "margins": [x["max"]["max_margin"] for x in sm if x["max"]["max_margin"] is not None],
            "threshold": collapse_margin(dtype), "lost": sum(x["lost"] is not None for x in sm),
            "reached": sum(x["reach"] is not None for x in sm)}


# --- the section, written from the numbers ------------------------------------------------

INTRO = ("Prieto et al. (“Grokking at the Edge of Numerical Stability”, ICLR 2025) argue that softmax "
         "cross-entropy, log(1 + Σ_k exp(z_k − z_y)), rounds to exactly 0 once a sample's correct logit leads "
         "by a margin whose exp(−margin) is below half an ulp of 1 (about 16.6 in float32, 36.7 in float64): "
         "the sample's loss and its correct-class gradient vanish (“Softmax Collapse”). We measured this in "
         "our S4 runs (an option of every run, `--precision-diagnostics`) and tested their remedy of "
         "computing the loss in float64 while the params stay float32 (`--loss-dtype float64`).")


def _what_was_run(n):
    seeds = n["seeds"]
    out = [f"**What was run.** The paper's S4 setting ({' and '.join(n['backends'])} backend on the CPU, full batch, "
           "AdamW), training "
           f"only (no LMN), evaluated and diagnosed every 100 steps, for up to {' and '.join(_fmt(s) for s in n['steps'])} "
           "steps. Per seed the float32 and float64 runs start from the same split and init (the seed's). Finished "
           "runs: " + "; ".join(f"{LABELS[v]}: " + (f"{len(seeds[v])} (seed{'s' if len(seeds[v]) != 1 else ''} "
                                                     f"{', '.join(map(str, seeds[v]))})" if seeds[v] else "none")
                                for v in VARIANTS) + ". "
           f"A run stops early once test accuracy has reached 1 and stayed ≥ {STABLE} for {_fmt(HOLD)} steps. "
           f"The plan is seeds {SEEDS[0]}–{SEEDS[-1]} × these three precisions, {_fmt(STEPS)} steps "
           f"(`python -m lmn_edu.reproduce precision`, resumable); {sum(map(len, seeds.values()))} of "
           f"{len(SEEDS) * len(VARIANTS)} runs are finished, so every count below is out of the runs that are.", ""]
    if n["unfinished"]:
        out += ["Unfinished (not counted): " + ", ".join(f"{name} (stopped at step {_fmt(s)})"
                                                      for name, s in n["unfinished"]) + ".", ""]
    return out


def _generalization_md(n):
    out = [f"**Generalization step**: the first evaluation with test accuracy 1 after which test accuracy stays "
           f"≥ {STABLE} to the end of the run (at least {_fmt(HOLD)} steps). “Reaches 1” is the project's phase "
           "boundary (first step with test accuracy 1), which a run can reach and lose again.", "",
           "| precision | runs | reaches test acc 1 | generalizes within the run | within 20k | generalization step | "
           "first step at test acc 1 |", "|---|---|---|---|---|---|---|"]
    for v, c in n["counts"].items():
        out.append(f"| {LABELS[v]} | 0 | not run | | | | |" if not c["runs"] else
                   f"| {LABELS[v]} | {c['runs']} | {c['reach']} | {c['gen']} | {c['gen_early']} | "
                   f"{_dist(c['gen_steps'])} | {_dist(c['reach_steps'])} |")
    out += ["", "Per seed (generalization step; “–”: not within the run, with the run's last step):", "",
            "| seed | " + " | ".join(LABELS[v] for v in VARIANTS) + " |", "|---" * (len(VARIANTS) + 1) + "|"]
    for seed in sorted(set().union(*map(set, n["seeds"].values()))):
        xs = [n["summ"][v].get(seed) for v in VARIANTS]
        out.append(f"| {seed} | " + " | ".join(
            "not run" if x is None else _fmt(x["gen"]) if x["gen"] is not None
            else f"– (ran to {_fmt(x['last'])}; test acc {x['final_acc']:.2f})" for x in xs) + " |")
    return out


def _paired_md(n):
    if not n["paired"]:
        return []
    f32, f64 = n["summ"]["float32"], n["summ"]["float64"]
    d = [(f32[s]["gen"], f64[s]["gen"]) for s in n["paired"]]
    both = [(a, b) for a, b in d if a is not None and b is not None]
    out = ["", f"Paired seeds: {len(n['paired'])}; both generalized in {len(both)}; float32 earlier in "
               f"{sum(a < b for a, b in both)}, float64 earlier in {sum(b < a for a, b in both)}; only float32 in "
               f"{sum(a is not None and b is None for a, b in d)}, only float64 in "
               f"{sum(a is None and b is not None for a, b in d)}.",
           "", f"Where the paired runs part: the first evaluation where their test accuracies differ by more "
               f"than {ACC_TOL} (3 of S4's 116 test pairs) and where their train losses differ by more than a "
               f"factor {LOSS_RATIO}, beside float32's first collapse:", "",
           "| seed | float32's first collapse | test accuracy parts | train loss parts |", "|---|---|---|---|"]
    return out + [f"| {s} | {' | '.join(_fmt(x) for x in n['parting'][s])} |" for s in n["paired"]]


def _diagnostics_md(n):
    out = ["", "**Diagnostics over training** (every evaluation of every finished run; the loss shares in "
               "the dtype the loss is computed in, the rounding in the params' dtype; “collapse”: a training "
               "sample with loss exactly 0):", "",
           "| precision | runs with collapse | first collapse, step | largest share of samples at loss 0 | "
           "… correct-class gradient 0 | largest margin (threshold) | largest share of updates rounding away | "
           "runs that lost test accuracy after reaching 1 |", "|---|---|---|---|---|---|---|---|"]
    for v, g in n["diagnostics"].items():
        margin = (f"{max(g['margins']):.1f} ({g['threshold']:.1f}; measured in {len(g['margins'])} of {g['runs']})"
                  if g["margins"] else f"not measured ({g['threshold']:.1f})")
        out.append(f"| {LABELS[v]} | {g['collapsed']} of {g['runs']} | {_dist(g['collapse_steps'])} | "
                   f"{_frac(g['zero_loss'])} | {_frac(g['zero_grad'])} | {margin} | {_frac(g['rounded'])} | "
                   f"{g['lost']} of {g['reached']} |")
    return out


def _float32_md(n):
    f32 = n["summ"]["float32"]
    if not f32:
        return []
    out = ["", "Float32 per seed: step test accuracy first reached 1, first collapse, the largest share "
               "at loss 0 (its step), the step test accuracy fell below "
               f"{STABLE} again after reaching 1, and the generalization step:", "",
           "| seed | reaches 1 | first collapse | largest share at loss 0 | lost (share at loss 0 just before) "
           "| generalized |", "|---|---|---|---|---|---|"]
    for seed, x in sorted(f32.items()):
        share, at = x["peak"][1], x["peak"][0]
        before = f" ({_frac(x['zero_before_lost'])})" if x["lost"] is not None else ""
        out.append(f"| {seed} | {_fmt(x['reach'])} | {_fmt(x['collapse'])} | "
                   f"{_frac(share)}{f' ({_fmt(at)})' if share else ''} | {_fmt(x['lost'])}{before} | "
                   f"{_fmt(x['gen'])} |")
    return out


FIGURE_CAPTION = ("Shown: every finished run of the study, one line per run, one column per precision (the runs "
                  "with the loss in float64 follow float64 so closely that on one panel they would hide it), the "
                  f"same y range along a row; dotted: step {_fmt(EARLY)}; dashed: the margins at which float32 and "
                  "float64 collapse (a run measured before the margin column existed has no margin line). Bottom: "
                  "each run's generalization step (x: not within the run).")


def section(results, figdir=None):
    """Markdown lines on the S4 precision study of ``results``; the figure into ``figdir`` if given."""
    study = results if isinstance(results, dict) else load_study(results)
    out = ["## S4 and numerical precision: Softmax Collapse", ""]
    if not any(study["runs"].values()):
        return out + ["*Not run: no finished run of the S4 precision study in the results.*", ""]
    n = study_numbers(study)
    out += [INTRO, ""] + _what_was_run(n) + _generalization_md(n) + _paired_md(n) + _diagnostics_md(n)
    out += _float32_md(n)
    if figdir is not None:
        figure(study, Path(figdir) / "s4_precision.png")
        out += ["", "![S4 precision study](figures/reproduction/s4_precision.png)", "", FIGURE_CAPTION]
    return out + ["", "**Does Softmax Collapse explain our S4 result?** " + render_answer(n["verdict"]), ""]


# --- the verdict: its numbers, then its sentences ------------------------------------------

def _n_gen(sm, within=None):
    return sum(x["gen"] is not None and (within is None or x["gen"] <= within) for x in sm.values())


def verdict_numbers(summ, runs):
    """The counts the plain-words verdict rests on (see render_answer)."""
    f32, f64, rem = summ["float32"], summ["float64"], summ["float32-loss64"]
    collapsed = {s: x for s, x in f32.items() if x["collapse"] is not None}
    pairs = [s for s in sorted(set(collapsed) & set(f64)) if s in runs["float32"] and s in runs["float64"]]
    parts = {s: parting_step(runs["float32"][s], runs["float64"][s], "test_acc") for s in pairs}
    common = sorted(set(rem) & set(f32) & set(f64))
    failed = [s for s in common if f32[s]["gen"] is None and f64[s]["gen"] is not None]
    both = sorted(set(rem) & set(f64))
    reached = [x for x in collapsed.values() if x["reach"] is not None]
    return {
        "n": {v: len(summ[v]) for v in VARIANTS},
        "gen": {v: _n_gen(summ[v]) for v in VARIANTS}, "gen_early": {v: _n_gen(summ[v], EARLY) for v in VARIANTS},
        "reach_early": {v: sum(x["reach"] is not None and x["reach"] <= EARLY for x in summ[v].values()) for v in VARIANTS},
        "collapsed": len(collapsed), "zero_loss": _mx(list(f32.values()), "zero_loss_frac") if f32 else None,
        "collapsed_reached": len(reached), "collapse_before_reach": sum(x["collapse"] < x["reach"] for x in reached),
        "lost_shares": [x["zero_before_lost"] for x in collapsed.values() if x["lost"] is not None],
        "f64_collapsed": sum(x["collapse"] is not None for x in f64.values()),
        "pairs": len(pairs), "same_until_collapse": sum(parts[s] is None or parts[s] >= collapsed[s]["collapse"]
                                                        for s in pairs),
        "neither": [(s, f32[s]["final_acc"], f64[s]["final_acc"]) for s in pairs
                    if f32[s]["gen"] is None and f64[s]["gen"] is None],
        "failed": failed, "fixed": [s for s in failed if rem[s]["gen"] is not None],
        "rem_collapsed": sum(x["collapse"] is not None for x in rem.values()),
        "rem_like_f64": sum(s in runs["float32-loss64"] and s in runs["float64"] and
                            parting_step(runs["float32-loss64"][s], runs["float64"][s], "test_acc") is None for s in both),
        "rem_f64": len(both), "paired": len(set(f32) & set(f64)),
        "rounded": _mx(list(f32.values()), "rounded_update_frac") if f32 else None}


def answer(summ, runs=None):
    """The plain-words verdict from the runs' summaries; ``runs``: the rows, for where paired runs part."""
    return render_answer(verdict_numbers(summ, runs or {v: {} for v in VARIANTS}))


def _collapse_sentences(v):
    if not v["collapsed"]:
        return ["Softmax Collapse did not occur in the float32 runs: at no evaluation (every 100 steps) did any "
                "training sample have a loss or correct-class gradient of exactly 0. It cannot explain a difference "
                "between the precisions in these runs."]
    said = [f"Softmax Collapse does occur in float32: {v['collapsed']} of {v['n']['float32']} runs had training samples "
            f"at exactly zero loss (up to a share of {_frac(v['zero_loss'])}); {v['collapsed_reached']} of them still "
            f"reached test accuracy 1 ({v['collapse_before_reach']} with collapse already under way), so collapse of "
            "part of the samples did not stop generalization there."]
    if v["lost_shares"]:
        said.append(f"{len(v['lost_shares'])} of them lost test accuracy (below {STABLE}) again after reaching 1, with a "
                    f"share of {', '.join(_frac(x) for x in v['lost_shares'])} of the samples at zero loss at the "
                    "evaluation before: the loss of accuracy coincides with collapse; that collapse caused it is not shown.")
    if v["n"]["float64"]:
        said.append(f"Float64 runs with collapse: {v['f64_collapsed']} of {v['n']['float64']}.")
    if v["pairs"]:
        said.append(f"In {v['same_until_collapse']} of {v['pairs']} paired seeds with collapse, the float32 run's test "
                    f"accuracy stays within {ACC_TOL} of the float64 run's until float32's samples begin to collapse "
                    "(they part only after, if at all): in those seeds precision made no visible difference before collapse.")
    if v["neither"]:
        said.append("Where neither run generalized, the final test accuracy was " + "; ".join(
            f"seed {s}: float32 {a:.2f}, float64 {b:.2f}" for s, a, b in v["neither"]) + ".")
    return said


def _remedy_sentences(v):
    if not v["n"]["float32-loss64"]:
        return ["The remedy was not run to the end on any seed: its effect is not tested."]
    failed, fixed = v["failed"], v["fixed"]
    said = [f"The remedy (loss in float64) generalized in {v['gen']['float32-loss64']} of {v['n']['float32-loss64']} "
            f"runs ({v['gen_early']['float32-loss64']} within 20k). On the {len(failed)} seed(s) where float32 failed "
            f"and float64 generalized{' (' + ', '.join(map(str, failed)) + ')' if failed else ''}, it generalized in "
            f"{len(fixed)}."]
    if failed:
        said.append("That is consistent with Softmax Collapse explaining the float32 failures there." if
                    len(fixed) == len(failed) else "So Softmax Collapse explains at most part of the float32 failures."
                    if fixed else "So removing Softmax Collapse does not remove the float32 failures: it does not explain them.")
    said.append(f"Remedy runs with collapse (in float64): {v['rem_collapsed']} of {v['n']['float32-loss64']}.")
    if v["rem_f64"]:
        said.append(f"The remedy run's test accuracy stays within {ACC_TOL} of the float64 run's throughout in "
                    f"{v['rem_like_f64']} of {v['rem_f64']} seeds: with the loss in float64, float32 params behave "
                    "like float64 here.")
    return said


def render_answer(v):
    """The verdict's sentences from ``verdict_numbers``."""
    n, g = v["n"], v["gen"]
    if not n["float32"]:
        return "Not tested: no finished float32 run."
    said = [f"Float32 generalized in {g['float32']} of {n['float32']} runs ({v['gen_early']['float32']} within 20k; "
            f"{v['reach_early']['float32']} first reached test accuracy 1 within 20k), float64 in {g['float64']} of "
            f"{n['float64']} ({v['gen_early']['float64']} within 20k; {v['reach_early']['float64']} reached 1 within 20k)."]
    said += _collapse_sentences(v)
    if not n["float64"]:
        said.append("No float64 run finished: whether float32 generalizes less often is not tested.")
    elif not g["float32"] < g["float64"]:
        said.append("By the counts, float32 did not generalize less often than float64 here; the differences "
                    "between the precisions are the ones described above.")
    said += _remedy_sentences(v)
    if v["paired"] < len(SEEDS):
        said.append(f"All of this rests on {v['paired']} paired seed(s) of the {len(SEEDS)} planned: it describes these "
                    "runs and does not settle the distribution over seeds.")
    if v["rounded"]:
        said.append(f"Float32 also rounds away some AdamW updates (at most a share of {v['rounded']:.2g} of the "
                    "parameter entries at an evaluation); whether that matters is not shown.")
    return " ".join(said)
