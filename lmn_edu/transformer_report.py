"""docs/transformer.md, from the committed transformer runs alone: does the grokking transformer compress?

    python -m lmn_edu.transformer_report --from results/transformer --docs docs

Reads every run folder under ``--from`` whose config.json has ``model: "transformer"``, and writes
``<docs>/transformer.md`` and ``<docs>/figures/transformer/*.png``. Nothing in the report is typed
by hand: the numbers, the verdicts and the figures are computed here from the rows.

Per seed: the memorization and generalization steps (analysis.phase_steps), LMN from each measured
layer at the start, its peak, at the two phase steps and at the end, and how well the test loss is
tracked in the generalizing phase (memorization → generalization) by LMN, by L2 and by two trivial
covariates, −log step and log train loss. A high r alone shows nothing there (any two monotone
curves have one), so the report gives, for each predictor, r, the R² of a line and a parabola, the
share of the line's misfit the parabola explains (curvature), the Durbin–Watson statistic of the
line's residuals, and the R² LMN or L2 adds to −log step (does it explain anything time does not?),
beside the gain a random predictor would give on average, (1 − R²(−log step)) / (n − 2).
"""
import argparse
import sys
from pathlib import Path

import numpy as np

from .analysis import column, linearity, phase_steps, phase_window
from .errors import LMNInputError
from .files import read_json, read_text, write_atomic
from .history import load_run

RESULTS = Path(__file__).resolve().parents[1] / "results" / "transformer"
LAYERS = ("emb", "attn")
PREDICTORS = ("lmn", "l2", "neg_log_step", "log_train_loss")
MIN_WINDOW = 6                      # fewer LMN rows in the generalizing phase: "not tested"


def load(results=RESULTS):
    """[(name, config, rows)] of the transformer run folders under ``results``, by seed."""
    runs = []
    for folder in sorted(Path(results).glob("*/config.json")):
        config, rows = load_run(folder.parent)
        if config.get("model") == "transformer" and rows:
            runs.append((folder.parent.name, config, rows))
    if not runs:
        raise LMNInputError(f"no transformer run folders (config.json with model 'transformer') under {results}")
    return sorted(runs, key=lambda r: (r[1].get("seed", 0), r[0]))


def r2_added(y, base, extra):
    """R² of y on [base, extra] minus R² on [base] alone (least squares with an intercept)."""
    def r2(cols):
        A = np.column_stack([np.ones(len(y))] + cols)
        resid = y - A @ np.linalg.lstsq(A, y, rcond=None)[0]
        return 1.0 - (resid @ resid) / ((y - y.mean()) @ (y - y.mean()))
    return float(r2([base, extra]) - r2([base]))


WINDOWS = {"generalizing": "from memorization to generalization (the paper's window)",
           "after memorization": "from memorization to the end of the run"}


def window_rows(rows, layer, window):
    """The LMN rows of ``window`` (a key of WINDOWS)."""
    col = f"lmn_{layer}"
    if window == "generalizing":
        return phase_window(rows, col)
    mem = phase_steps(rows)[0]
    return [] if mem is None else [r for r in rows if r["step"] >= mem and r.get(col) is not None]


def tracking(rows, layer, window="generalizing"):
    """Linearity of test loss in each predictor over the LMN rows of ``window``; None when there
    are fewer than MIN_WINDOW of them (or the run never memorized)."""
    win = [r for r in window_rows(rows, layer, window) if r["step"] > 0 and r["train_loss"] > 0]
    if len(win) < MIN_WINDOW:
        return None
    y = np.array([r["test_loss"] for r in win])
    x = {"lmn": np.array([r[f"lmn_{layer}"] for r in win]), "l2": np.array([r["l2"] for r in win]),
         "neg_log_step": -np.log([r["step"] for r in win]),
         "log_train_loss": np.log([r["train_loss"] for r in win])}
    out = {k: linearity(v, y) for k, v in x.items()}
    for k in ("lmn", "l2"):
        out[k]["added_to_time"] = r2_added(y, x["neg_log_step"], x[k])
    out["steps"] = (win[0]["step"], win[-1]["step"])
    base = linearity(x["neg_log_step"], y)["r2_lin"] or 0.0
    out["chance_added"] = (1.0 - base) / (len(y) - 2)      # expected R² gain of a random predictor
    return out


def summarize(config, rows, layer):
    """One seed's numbers for ``layer``."""
    key = f"lmn_{layer}"
    mem, gen = phase_steps(rows)
    steps, v = column(rows, key)
    if not steps:
        return None
    at = dict(zip(steps, v))

    def nearest(step):
        if step is None:
            return None
        s = min(steps, key=lambda t: abs(t - step))
        return s, at[s]

    i = int(np.argmax(v))
    return {"seed": config.get("seed"), "mem": mem, "gen": gen, "n_lmn": len(steps),
            "start": (steps[0], v[0]), "peak": (steps[i], v[i]), "at_mem": nearest(mem), "at_gen": nearest(gen),
            "end": (steps[-1], v[-1]), "rises": v[i] > 1.2 * v[0] and 0 < i,
            "falls": v[-1] < 0.8 * v[i] and i < len(v) - 1,
            "track": {w: tracking(rows, layer, w) for w in WINDOWS},
            "test_acc": rows[-1]["test_acc"], "time_s": rows[-1].get("time_s")}


def fmt(x, digits=2):
    if x is None:
        return "–"
    if isinstance(x, tuple):
        return f"{x[1]:.{digits}f} (step {x[0]})"
    return f"{x:.{digits}f}" if isinstance(x, float) else str(x)


def verdict(s):
    """What one seed's LMN of a layer did, in words, from its numbers (no threshold is hidden:
    "rises" = the peak is above 1.2 × the first value, "falls" = the last is below 0.8 × the peak)."""
    if s["mem"] is None:
        return "did not memorize: not tested"
    shape = ("rises, then falls" if s["rises"] and s["falls"] else "rises and stays up" if s["rises"]
             else "falls without rising first" if s["falls"] else "stays level")
    return shape + ("" if s["gen"] is not None else "; did not generalize (test acc 1.0 not reached)")


def track_table(summaries, layer, window):
    head = ("| seed | window (steps) | predictor | r | R² line | R² parabola | curvature share | Durbin–Watson | "
            "R² added to −log step (chance) |\n|---|---|---|---|---|---|---|---|---|\n")
    names = {"lmn": f"LMN({layer})", "l2": "L2", "neg_log_step": "−log step", "log_train_loss": "log train loss"}
    lines = []
    for s in summaries:
        t = s["track"][window]
        if t is None:
            lines.append(f"| {s['seed']} | – | not tested (fewer than {MIN_WINDOW} LMN rows {WINDOWS[window]}) "
                         "| | | | | | |")
            continue
        for k in PREDICTORS:
            lin = t[k]
            lines.append(f"| {s['seed']} | {t['steps'][0]}–{t['steps'][1]} (n={lin['n']}) | {names[k]} | "
                         f"{fmt(lin['r'])} | {fmt(lin['r2_lin'])} | {fmt(lin['r2_quad'])} | {fmt(lin['curve_share'])} | "
                         f"{fmt(lin['dw'])} | {added(t, k)} |")
    return head + "\n".join(lines) + "\n"


def added(t, k):
    if k not in ("lmn", "l2"):
        return "–"
    return f"{t[k]['added_to_time']:.3f} ({t['chance_added']:.3f})"


def better_than_l2(summaries, window):
    """Per seed: does LMN track test loss better than L2 does, by the statistics that can tell?
    Better = a larger R² of a line AND more added to −log step, with the MLP's sign (LMN falls with
    the test loss, r > 0): an LMN that rises while the test loss falls is not compression, however
    well it fits. "not tested" without a window."""
    out = []
    for s in summaries:
        t = s["track"][window]
        if t is None:
            out.append((s["seed"], "not tested"))
            continue
        lin = t["lmn"]["r2_lin"] is not None and t["l2"]["r2_lin"] is not None and t["lmn"]["r2_lin"] > t["l2"]["r2_lin"]
        add = t["lmn"]["added_to_time"] > t["l2"]["added_to_time"]
        if t["lmn"]["r"] is not None and t["lmn"]["r"] < 0:
            out.append((s["seed"], "no: LMN rises as the test loss falls (r < 0)"
                        + (", though its line fits better and adds more to −log step" if lin and add else "")))
            continue
        out.append((s["seed"], "yes" if lin and add else "no" if not lin and not add else "mixed"))
    return out


def in_short(runs):
    """The finding in a few computed lines: per layer, how many seeds' LMN rose and fell, and the
    sign of its correlation with the test loss after memorization (the MLP's: positive)."""
    out = ["## In short\n"]
    for layer in LAYERS:
        summ = [s for s in (summarize(c, rows, layer) for _, c, rows in runs) if s is not None]
        if not summ:
            continue
        shapes = ", ".join(f"seed {s['seed']}: {verdict(s)}" for s in summ)
        signs = []
        for s in summ:
            t = s["track"]["after memorization"]
            signs.append(f"seed {s['seed']}: " + ("not tested" if t is None or t["lmn"]["r"] is None else
                         f"r(LMN, test loss) = {t['lmn']['r']:.2f}, r(L2, test loss) = {fmt(t['l2']['r'])}"))
        out.append(f"- **LMN({layer})** — {shapes}. After memorization, {'; '.join(signs)} "
                   "(in the paper's MLP LMN falls with the test loss: r > 0).")
    out.append("")
    return out


def figures(runs, figdir):
    from .plots import fig2_seeds
    seeds = [(c.get("seed", 0), rows) for _, c, rows in runs]
    paths = {}
    for layer in LAYERS:
        if any(column(rows, f"lmn_{layer}")[0] for _, rows in seeds):
            path = Path(figdir) / f"transformer_{layer}.png"
            fig2_seeds({f"transformer, LMN from {layer}": seeds}, path, layer=layer)
            paths[layer] = path
    return paths


def build(results=RESULTS, docs="docs"):
    """Write <docs>/transformer.md and its figures from the runs under ``results``; returns the text."""
    runs = load(results)
    docs = Path(docs)
    figdir = docs / "figures" / "transformer"
    paths = figures(runs, figdir)
    cpu = {}
    if (Path(results) / "cpu_times.json").exists():
        cpu = read_json(Path(results) / "cpu_times.json")       # a malformed file: one line naming it
    md = ["# Does the grokking transformer compress? LMN on a one-layer transformer\n",
          "Built by `python -m lmn_edu.transformer_report` from the run folders in `results/transformer/`; "
          "every number below is computed from them (lmn_edu/transformer_report.py). The model, the "
          "configuration and the LMN measured are described in the [notes](#notes) at the end.\n",
          "## The runs\n",
          "| run | seed | p | d_model | heads | d_mlp | lr | wd | betas | train frac | steps | LMN points | "
          "memorized (train acc 1) | generalized (test acc 1) | final test acc | wall time (s) | CPU time (s) |",
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, c, rows in runs:
        mem, gen = phase_steps(rows)
        md.append(f"| {name} | {c.get('seed')} | {c.get('modulus')} | {c.get('d_model')} | {c.get('n_heads')} | "
                  f"{c.get('d_mlp')} | {c.get('lr')} | {c.get('weight_decay')} | 0.9, {c.get('beta2')} | "
                  f"{c.get('train_frac')} | {rows[-1]['step']} | {c.get('lmn_n_points') or 'all'} "
                  f"{c.get('lmn_points')} | {fmt(mem)} | {fmt(gen)} | {rows[-1]['test_acc']:.3f} | "
                  f"{fmt(rows[-1].get('time_s'), 0)} | {fmt(cpu.get(name), 0)} |")
    md.append("")
    md += in_short(runs)
    if cpu.get("_note"):
        md.append(cpu["_note"] + "\n")
    for layer in LAYERS:
        summ = [s for s in (summarize(c, rows, layer) for _, c, rows in runs) if s is not None]
        if not summ:
            md.append(f"## LMN from `{layer}`\n\nnot tested: no run measured it.\n")
            continue
        md += [f"## LMN from `{layer}` to the logits at \"=\"\n",
               f"![accuracy, LMN({layer}) and L2 against step, every seed](figures/transformer/{paths[layer].name})\n",
               "| seed | LMN rows | start | peak | at memorization | at generalization | end | shape |",
               "|---|---|---|---|---|---|---|---|"]
        md += [f"| {s['seed']} | {s['n_lmn']} | {fmt(s['start'])} | {fmt(s['peak'])} | {fmt(s['at_mem'])} | "
               f"{fmt(s['at_gen'])} | {fmt(s['end'])} | {verdict(s)} |" for s in summ]
        for window, where in WINDOWS.items():
            md += ["", f"**Does LMN({layer}) track the test loss, {where}?** Test loss against each predictor "
                   "over the LMN rows of that window:\n",
                   track_table(summ, layer, window),
                   "Better than L2 (a larger R² of a line and more R² added to −log step, with r > 0 as in the MLP): "
                   + "; ".join(f"seed {seed}: {v}" for seed, v in better_than_l2(summ, window)) + ".\n"]
    trials = Path(results) / "trials.md"
    if trials.exists():
        md.append(read_text(trials))
    md.append(NOTES)
    text = "\n".join(md)
    docs.mkdir(parents=True, exist_ok=True)
    write_atomic(docs / "transformer.md", text)
    return text


def main(argv=None):
    from .errors import ArgumentParser
    p = ArgumentParser(prog="python -m lmn_edu.transformer_report",
                       description="docs/transformer.md from the committed transformer runs")
    p.add_argument("--from", dest="results", default=str(RESULTS), help="folder of transformer run folders")
    p.add_argument("--docs", default="docs", help="where transformer.md and figures/transformer/ go")
    args = p.parse_args(argv)
    try:
        build(args.results, args.docs)
    except LMNInputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {Path(args.docs) / 'transformer.md'}")
    return 0


NOTES = """## Notes

**The model** (lmn_edu/transformer.py, torch twin lmn_edu/backends/torch_transformer.py): the one-layer
transformer of Nanda et al., "Progress measures for grokking via mechanistic interpretability" (ICLR 2023):
input "a b =" (p + 1 tokens), token + position embeddings, one attention layer (heads of d_model / heads),
an MLP with ReLU, no LayerNorm, the unembedding read at "=". Init as Nanda's code: every matrix
N(0, 1/d_model), the unembedding N(0, 1/(p + 1)), zero biases. Changes from Nanda: the attention is
computed for the "=" query only (with one layer this gives exactly the logits of his causal model:
tests/test_transformer.py checks it against a causal implementation), the unembedding maps to the p
classes (his has a column for "=" too), no 10-step learning-rate warm-up, and the loss is float64
throughout (NumPy backend).

**LMN on a transformer.** The points are the embedded input sequences, token + position, flattened to
3·d_model numbers (`emb`): continuous points, as eq (1) needs. The tail from `emb` is the whole
network after the embedding: attention, MLP, unembedding, to the logits at "=". Which affine-prefix
identities hold: **none crosses the attention** — its scores q·k are quadratic in the residual stream
and the softmax is not affine, so LMN(emb) is its own curve. From `attn` (the residual stream at "="
after the attention) the tail is r ↦ W_U (r + W_out ReLU(W_in r + b_in) + b_out): not affine, and the
residual connection means no stage can be folded onto the points either. Only the "=" position of the
residual stream after the attention reaches the logits (one layer; the MLP and the unembedding act per
position), so LMN from the full stream (3·d_model, positions 0 and 1 carried along) equals LMN from the
"=" position alone (tested). From `mlp` the tail is the unembedding, affine: LMN(mlp) = 1 exactly, as
LMN(h2) in the MLP; it is not plotted.

**The statistics.** In the generalizing phase test loss, LMN, L2 and time all change monotonically, so a
high r between any two shows nothing. The table gives for each predictor the R² of a line and of a
parabola, the share of the line's misfit the parabola removes (0: no curvature), the Durbin–Watson
statistic of the line's residuals in step order (near 2: no structure left; near 0: the line misses a
curve), and the R² the predictor adds to −log step: a quantity that only follows time adds nothing;
in brackets the gain a random predictor gives on average with n points, (1 − R²) / (n − 2). The
phase windows are short (few LMN rows), so each row of those tables rests on few points; the second
window (memorization to the end) has more, and includes the finalizing phase.
"""


if __name__ == "__main__":
    sys.exit(main())
