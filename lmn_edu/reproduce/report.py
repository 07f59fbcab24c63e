"""docs/reproduction.md and its figures, rebuilt from the run folders of a results folder.

Every number in the report is computed here from the files (run folders, readings.json,
appendix_b.npz, s4_split_init.json); the discussion is results/<…>/notes.md, appended as written.
NumPy and matplotlib only: ``--from`` needs no torch.
"""
from pathlib import Path

import numpy as np

from ..datasets import TASKS
from ..errors import LMNInputError
from ..files import read_text, write_atomic
from ..rundir import load_run
from . import figures, sections
from .fill import GRID
from .protocol import SEEDS, run_path
from .headline import COVARIATES, LEVELS_RULE
from .summary import CRITERIA, MIN_R_POINTS, MIN_TURN_POINTS, NO_NUMBER, PAPER, agree, at_edge, summarize, verdict

TITLE = "# Reproducing “Grokking as Compression” (Liu, Zhong & Tegmark, arXiv 2310.05918)"


def fmt(v, digits=1):
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def load_results(results, tasks=TASKS, seeds=SEEDS):
    """{task: {seed: (config, rows) or None}}; LMNInputError when no run is there at all, or one is
    unreadable or malformed (rundir.load_run checks every file; the message names the file and field)."""
    out = {t: {s: (load_run(run_path(results, t, s)) if run_path(results, t, s).exists() else None)
               for s in seeds} for t in tasks}
    if not any(r for by in out.values() for r in by.values()):
        raise LMNInputError(f"{results} holds no run folder (<task>-s<seed>/ for tasks {', '.join(tasks)}, "
                            f"seeds {', '.join(map(str, seeds))}); nothing to report")
    for t, by in out.items():
        for s, r in by.items():
            if r is not None:
                _check_rows(run_path(results, t, s), r[1])
    return out


def _check_rows(path, rows):
    """A run's rows must carry the numbers the report reads (accuracies, losses, L2); their types
    were checked when read."""
    for r in rows:
        missing = [key for key in ("train_acc", "test_acc", "test_loss", "l2") if key not in r]
        if missing:
            raise LMNInputError(f"run {path}: row of step {r['step']} has no {', '.join(missing)}")
    if not rows:
        raise LMNInputError(f"run {path}: no rows")


def _cadence(config, rows, layer):
    steps = [r["step"] for r in rows if r.get(f"lmn_{layer}") is not None]
    if not steps:
        return f"{layer}: no LMN measured"
    gaps = np.diff(steps) if len(steps) > 1 else np.array([0])
    return f"{layer}: {len(steps)} values (gap median {int(np.median(gaps))}, max {int(gaps.max())} steps)"


def what_was_run(runs):
    md = ["## What was run", "",
          "The paper's setting: 3-layer SiLU MLP (embedding 32 per token, hidden 100), full-batch AdamW "
          "(lr 1e-3, weight decay 0.2), cross-entropy, 20 000 steps, 80/20 random split, LMN of the first "
          "hidden layer h1 to the logits (eq 1–3, 21 λ points) on the training points (our choice: the "
          "paper does not say which points). Accuracy, loss and L2 are recorded every `eval_every` steps. "
          "LMN was measured afterwards from params saved during training (deferred); runs that lacked LMN "
          "values on the common grid of their task (see “Linearity”) were trained again with the same config "
          "by the same training loop, their rows compared with the saved ones (largest difference in losses, "
          "accuracies and L2 in the last column), and LMN measured from the retrained params at the missing "
          "grid steps.", "",
          "| run | status | backend, dtype, device | eval every | LMN values | filled onto the common grid |",
          "|---|---|---|---|---|---|"]
    for t, by in runs.items():
        for s, r in by.items():
            if r is None:
                md.append(f"| {t} seed {s} | **missing** | — | — | — | — |")
                continue
            config, rows = r
            done = rows[-1]["step"]
            status = "complete" if done == config.get("steps") else f"**stopped at step {done}**"
            filled = config.get("lmn_filled") or {}
            dev = filled.get("max_deviation_of_retrained_rows")
            fill = (f"{len(filled.get('steps', []))} values (every {filled.get('grid_every')} steps; retrained "
                    f"rows within {dev:.0e} of the saved ones)" if filled.get("steps") else "none needed")
            md.append(f"| {t} seed {s} | {status} ({config.get('steps')} steps) | {config.get('backend')}, "
                      f"{config.get('dtype')}, {config.get('device_used', config.get('device'))} | "
                      f"{config.get('eval_every')} | "
                      + "; ".join(_cadence(config, rows, layer) for layer in config.get("lmn_layers") or ["h1"])
                      + f" | {fill} |")
    return md + [""]


def _cov_cell(s):
    c = s["cov"]
    others = ", ".join(fmt(c["r2"][k], 3) for k in COVARIATES if k != "lmn")
    return f"{fmt(c['r2']['lmn'], 3)}; {others} ({c['n']})"


def _levels_cell(s):
    if s["after"] is None:
        return "not generalized"
    lv = s["after"]["levels"]
    return f"{fmt(lv['rate_before'], 2)} → {fmt(lv['rate_after'], 2)} (×{fmt(lv['ratio'], 2)})"


def paper_rows(summ, seeds):
    """The table paper against ours as dicts: task, label, paper, ours (per seed), verdict, key."""
    out = []

    def row(t, label, paper, f, key=None, value=None):
        ours = [None if summ[t][s] is None else f(summ[t][s]) for s in seeds]
        flags = [agree(key, summ[t][s]) if summ[t][s] and key else None for s in seeds]
        edges = at_edge(key, [summ[t][s][value] if summ[t][s] else None for s in seeds]) if value else []
        out.append({"task": t, "label": label, "paper": paper, "ours": ours, "key": key,
                    "verdict": verdict(flags, edges) if key else "—"})

    for t in summ:
        p, add = PAPER.get(t, {}), t == "add"
        row(t, "memorization step", p.get("mem_step", "shown in Fig 2, not stated"),
            lambda s: fmt(s["mem_step"]), "mem_step" if add else None, "mem_step")
        row(t, "generalization step", p.get("gen_step", "shown in Fig 2, not stated"),
            lambda s: fmt(s["gen_step"]) if s["gen_step"] is not None else f"never (test acc {s['final_test_acc']:.3f})",
            "gen_step" if add else None, "gen_step")
        row(t, "step test accuracy ≥ 0.99 (a looser reading)", "—", lambda s: fmt(s["gen99_step"]))
        row(t, "LMN peak (at step)", p.get("lmn_peak", NO_NUMBER),
            lambda s: f"{fmt(s['lmn_peak'])} ({fmt(s['lmn_peak_step'])})", "lmn_peak" if add else None, "lmn_peak")
        row(t, "LMN at 15k steps (measured at)", p.get("lmn_15k", NO_NUMBER),
            lambda s: f"{fmt(s['lmn_15k'])} ({fmt(s['lmn_15k_step'])})", "lmn_15k" if add else None, "lmn_15k")
        if t == "xor":
            row(t, "turning points after memorization: min, then max (step)", p["turns"],
                lambda s: ", ".join(f"{k} {v:.1f} ({st})" for k, st, v in s["turns"]) or "none found", "turns")
        row(t, "r(LMN, test loss) in the generalizing phase (points; no verdict: any falling quantity reaches "
            "r ≥ 0.9, see the next row)", PAPER["r_lmn"], lambda s: f"{fmt(s['r_lmn'], 3)} ({s['n_r']})")
        names = [v for k, v in COVARIATES.items() if k != "lmn"]
        row(t, f"R² of a line in LMN; in {', '.join(names)} (grid points): LMN above all three?",
            PAPER["r_lmn"], _cov_cell, "beats_all")
        row(t, "r(L2, test loss) in the generalizing phase (same rows as r(LMN))", PAPER["r_l2"],
            lambda s: fmt(s["r_l2"], 3))
        row(t, "R² of a line, LMN against L2 (from the R² row): LMN above L2?", PAPER["l2_vs_lmn"],
            lambda s: f"{fmt(s['cov']['r2']['lmn'], 3)} vs {fmt(s['cov']['r2']['l2'], 3)}", "beats_l2")
        if t != "xor":
            row(t, "LMN slope per 1k steps: generalizing phase → 5k steps after (ratio)", PAPER["levels"],
                _levels_cell, "levels_off", "levels_ratio")
    return out


def criteria_text():
    """The verdict criteria, each with why that width, and the edge rule."""
    return ("Verdict criteria, each with why that width: " + "; ".join(f"{k}: {v[0]}" for k, v in CRITERIA.items())
            + "; beats_all: LMN's R² above those of L2, −log step and log train loss on the same grid points "
            "(a strong linear relation should beat quantities that merely fall with time); beats_l2: LMN's R² "
            f"above L2's; levels_off: {LEVELS_RULE}. A result nearer a band edge (for levels_off: its ratio "
            "nearer ±0.2) than the sample standard deviation of the three seeds is counted “at the band's "
            "edge”: another seed could as well have fallen on the other side (all three at the edge: the band "
            f"is narrower than the seeds' own scatter, and the verdict says little). A run with fewer than "
            f"{MIN_R_POINTS} grid points in its generalizing phase gets no R² verdict, one with fewer than "
            f"{MIN_TURN_POINTS} LMN values no turning-point verdict. The paper states numbers for addition only "
            "(and XOR's turning points), and the addition numbers are read from its figures by eye; for S4 it "
            "shows curves with no number, so there the table gives ours without a verdict.")


def paper_table(summ, seeds):
    """The table paper against ours, the verdict criteria and the agree / differ lists (markdown)."""
    rows = paper_rows(summ, seeds)
    md = ["## Paper against ours", "",
          "Memorization step = first step with train accuracy 1; generalization step = first step with "
          "test accuracy 1 (resolution: `eval_every`). LMN is of h1 (→ logits). r = Pearson correlation "
          "over every LMN row of the generalizing phase (see “Definitions”). Ours lists seeds in order, "
          "separated by “ / ”.", "",
          "| task | quantity | paper | ours (per seed) | verdict |", "|---|---|---|---|---|"]
    md += [f"| {r['task']} | {r['label']} | {r['paper']} | {' / '.join('missing' if o is None else o for o in r['ours'])} "
           f"| {r['verdict']} |" for r in rows]
    md += ["", criteria_text(), ""]
    for word, title in (("agrees", "Where we agree"), ("partly", "Where we partly agree"),
                        ("differs", "Where we differ")):
        items = [f"{r['task']}: {r['label']} — ours {' / '.join(o or 'missing' for o in r['ours'])}, paper "
                 f"{r['paper']} ({r['verdict']})" for r in rows if r["verdict"].split(" ")[0] == word]
        if items:
            md += [f"**{title}** (by the criteria above):", ""] + [f"- {text}" for text in items] + [""]
    return md


def _shown(results):
    """The results folder as the report names it: relative to the project's checkout when inside it."""
    checkout = Path(__file__).resolve().parents[2]
    try:
        return Path(results).resolve().relative_to(checkout).as_posix()
    except ValueError:
        return Path(results).as_posix()


def build_report(results, docs="docs", tasks=TASKS, seeds=SEEDS):
    """Figures in ``<docs>/figures/reproduction/`` and ``<docs>/reproduction.md`` from ``results``.

    Raises LMNInputError (nothing written) when ``results`` holds no readable run.
    """
    results, docs = Path(results), Path(docs)
    runs = load_results(results, tasks, seeds)
    extras = sections.load_extras(results)              # read (and checked) before anything is written
    figdir = docs / "figures" / "reproduction"
    try:
        figdir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise LMNInputError(f"--docs {docs}: cannot write there ({e.strerror})") from None
    summ = {t: {s: (summarize(r[1], t) if r else None) for s, r in by.items()} for t, by in runs.items()}
    md = [TITLE, "",
          "Generated by `python -m lmn_edu.reproduce all` (every part, resumable; `plan` prints what it would do "
          "and how long it would take); rebuild this report from the committed run folders with "
          f"`python -m lmn_edu.reproduce report --from {_shown(results)}`. Every number below is computed "
          "from the files in that folder; a run that is missing there is marked missing.", ""]
    md += what_was_run(runs)
    md += sections.definitions(summ)
    md += paper_table(summ, seeds)
    md += sections.linearity(summ, GRID)
    md += sections.after_generalization(runs, summ)
    md += figures.section(runs, summ, figdir, extras)
    md += sections.readings(extras["readings"])
    md += sections.sanity()
    md += sections.s4(runs, extras, results, figdir)
    emb_runs = sum(1 for r in runs.get("add", {}).values() if r and any(x.get("lmn_emb") is not None for x in r[1]))
    md += sections.coverage(sections.coverage_rows(summ, extras, emb_runs))
    notes = results / "notes.md"
    if notes.exists():
        md += ["## Discussion", "", read_text(notes).strip(), ""]
    out = docs / "reproduction.md"
    write_atomic(out, "\n".join(md) + "\n")
    return out
