"""Figures from saved histories (matplotlib's object API: no global state, no display needed)."""
from pathlib import Path

from matplotlib.figure import Figure

from .analysis import column, negative_eigenvalues, phase_steps
from .files import write_figure

PHASE_COLORS = {"memorizing": "#f4cccc", "generalizing": "#fff2cc", "finalizing": "#d9ead3"}


def shade_phases(ax, rows):
    """Shade the paper's three phases: memorizing, generalizing, finalizing."""
    if not rows:
        return
    mem, gen = phase_steps(rows)
    last = rows[-1]["step"]
    first = max(rows[0]["step"], 1)
    edges = [first, mem or last, gen or last, last]
    for (name, color), a, b in zip(PHASE_COLORS.items(), edges[:-1], edges[1:]):
        if b > a:
            ax.axvspan(a, b, color=color, alpha=0.6, lw=0, label=name)


def fig2(rows, path=None, title=""):
    """The paper's Fig 2 for one run: accuracy, LMN and L2 against step (log x axis)."""
    fig = Figure(figsize=(13, 3.6), layout="constrained")
    axes = fig.subplots(1, 3)
    lmn_cols = [k for k in rows[0] if k.startswith("lmn_")] if rows else []
    panels = [
        ("accuracy", [("train_acc", "train"), ("test_acc", "test")]),
        ("LMN", [(c, c[4:]) for c in lmn_cols]),
        ("L2 norm of parameters", [("l2", "L2")]),
    ]
    for ax, (ylabel, series) in zip(axes, panels):
        shade_phases(ax, rows)
        for key, label in series:
            steps, values = column(rows, key)
            steps = [max(s, 1) for s in steps]   # step 0 on a log axis
            ax.plot(steps, values, marker="." if ylabel == "LMN" else None, label=label)
        ax.set_xscale("log")
        ax.set_xlabel("step")
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    if path is not None:
        write_figure(fig, path, dpi=120)
    return fig


# ---------------------------------------------------------------- reproduction figures
# Used by lmn_edu/reproduce; each takes saved rows (or arrays) and returns a Figure, saved when
# ``path`` is set. A seed has one colour in every panel and figure (SEED_COLORS[seed]); each seed's
# own phase boundaries are marked (dotted: train accuracy 1, dashed: test accuracy 1); no mean is
# drawn, because seeds differ in shape; the step axis is symlog (linear below 10), so step 0 is at 0.

SEED_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def seed_color(seed):
    return SEED_COLORS[seed % len(SEED_COLORS)]


def _save(fig, path, dpi=100):
    if path is not None:
        write_figure(fig, path, dpi=dpi)
    return fig


def _step_axis(ax):
    ax.set_xscale("symlog", linthresh=10, linscale=0.3)
    ax.set_xlim(left=0)
    ax.set_xlabel("step (symlog: linear below 10)")


def _phase_marks(ax, seed, rows):
    """The seed's memorization (dotted) and generalization (dashed) steps, in its colour."""
    mem, gen = phase_steps(rows)
    for step, ls in ((mem, ":"), (gen, "--")):
        if step is not None:
            ax.axvline(step, color=seed_color(seed), ls=ls, lw=0.9, alpha=0.8)


def _seeds_label(runs):
    seeds = [r[0] for r in runs]
    return f"seed{'s' if len(seeds) != 1 else ''} {', '.join(map(str, seeds))}"


def fig2_seeds(task_runs, path=None, layer="h1"):
    """The paper's Fig 2, every seed drawn: a row per task (accuracy, LMN of ``layer``, L2 against step).

    ``task_runs``: task -> [(seed, rows)].
    """
    tasks = list(task_runs)
    fig = Figure(figsize=(14, 3.3 * len(tasks)), layout="constrained")
    axes = fig.subplots(len(tasks), 3, squeeze=False)
    for row_axes, task in zip(axes, tasks):
        runs = task_runs[task]
        for ax, ylabel in zip(row_axes, ("accuracy (solid: test, thin: train)",
                                         f"LMN ({layer} → logits)", "L2 norm of parameters")):
            for seed, rows in runs:
                c = seed_color(seed)
                _phase_marks(ax, seed, rows)
                if ylabel.startswith("accuracy"):
                    ax.plot(*column(rows, "train_acc"), color=c, lw=0.6, alpha=0.6)
                    ax.plot(*column(rows, "test_acc"), color=c, lw=1.2, label=f"seed {seed}")
                elif ylabel.startswith("LMN"):
                    ax.plot(*column(rows, f"lmn_{layer}"), color=c, lw=1, marker=".", ms=3, label=f"seed {seed}")
                else:
                    ax.plot(*column(rows, "l2"), color=c, lw=1.2, label=f"seed {seed}")
            _step_axis(ax)
            ax.set_ylabel(ylabel)
            ax.set_title(f"{task}, {_seeds_label(runs)}; dotted: train acc 1, dashed: test acc 1", fontsize=8)
            ax.legend(fontsize=7)
    return _save(fig, path)


def fig3_layers(runs, path=None, layers=("emb", "h1", "h2")):
    """LMN of every measured layer against step (addition); z1 = emb and z2 = h1 by the identity.

    ``runs``: [(seed, rows)]; one panel per run.
    """
    fig = Figure(figsize=(6.5 * len(runs), 4), layout="constrained")
    axes = fig.subplots(1, len(runs), squeeze=False)[0]
    names = {"emb": "emb (= z1)", "h1": "h1 (= z2)", "h2": "h2 (→ logits affine: 1)"}
    styles = {"emb": "-", "h1": "-", "h2": ":"}
    for ax, (seed, rows) in zip(axes, runs):
        _phase_marks(ax, seed, rows)
        for layer, color in zip(layers, ("#7f7f7f", seed_color(seed), "#000000")):
            ax.plot(*column(rows, f"lmn_{layer}"), color=color, ls=styles.get(layer, "-"), marker=".", ms=3,
                    label=names.get(layer, layer))
        _step_axis(ax)
        ax.set_ylabel("LMN (layer → logits)")
        ax.legend(fontsize=8)
        ax.set_title(f"add, seed {seed}: LMN of every layer (LMN(emb)=LMN(z1), LMN(h1)=LMN(z2), LMN(h2)=1)",
                     fontsize=8)
    return _save(fig, path)


def against_test_loss(task_points, path=None):
    """Test loss (and log test loss) against LMN and L2 in the generalizing phase, per seed: points,
    least-squares line (solid) and parabola (dashed).

    ``task_points``: task -> list of (seed, test_loss, lmn, l2) arrays on the task's common grid.
    """
    import numpy as np

    tasks = list(task_points)
    fig = Figure(figsize=(16, 3.3 * max(len(tasks), 1)), layout="constrained")
    axes = fig.subplots(max(len(tasks), 1), 4, squeeze=False)
    panels = ((1, "LMN (h1)", False), (2, "L2", False), (1, "LMN (h1)", True), (2, "L2", True))
    for row_axes, task in zip(axes, tasks):
        for ax, (idx, name, log) in zip(row_axes, panels):
            for seed, *cols in task_points[task]:
                x, y = np.asarray(cols[idx]), np.asarray(cols[0])
                y = np.log(y) if log else y
                if len(x) < 4 or x.std() == 0:
                    continue
                c = seed_color(seed)
                xs = np.linspace(x.min(), x.max(), 50)
                ax.scatter(x, y, s=8, color=c, alpha=0.7)
                ax.plot(xs, np.polyval(np.polyfit(x, y, 1), xs), color=c, lw=1,
                        label=f"seed {seed}: r = {np.corrcoef(x, y)[0, 1]:.3f}")
                ax.plot(xs, np.polyval(np.polyfit(x, y, 2), xs), color=c, lw=1, ls="--")
            ax.set_xlabel(name)
            ax.set_ylabel("log test loss" if log else "test loss")
            ax.set_title(f"{task}, {_seeds_label(task_points[task])}: generalizing phase", fontsize=8)
            ax.legend(fontsize=7)
    return _save(fig, path)


def connectivity_panels(mats, path=None, clip_percentile=1):
    """Appendix B: L ordered by spectral clustering and its eigenvalues.

    ``mats``: title -> (L, order, eigenvalues). One colour scale for all panels, from the
    ``clip_percentile``-th percentile of every L_ij to 1: L is mostly near 1, so a full scale would
    show nothing; entries below the lower end are drawn in its colour. Returns (fig, lower end).
    """
    import numpy as np

    fig = Figure(figsize=(4 * len(mats), 7.5), layout="constrained")
    axes = fig.subplots(2, len(mats), squeeze=False)
    vmin = min(float(np.percentile(np.asarray(L, dtype=np.float64), clip_percentile)) for L, _, _ in mats.values())
    for k, (title, (L, order, mu)) in enumerate(mats.items()):
        L = np.asarray(L, dtype=np.float64)
        im = axes[0, k].imshow(L[np.ix_(order, order)], vmin=vmin, vmax=1, cmap="viridis", interpolation="nearest")
        axes[0, k].set_title(title, fontsize=9)
        axes[0, k].set_xticks([])
        axes[0, k].set_yticks([])
        mu = np.sort(np.asarray(mu))[::-1]
        ax = axes[1, k]
        ax.plot(np.arange(1, len(mu) + 1), mu, ".", ms=2)
        ax.axhline(0, color="k", lw=0.5)
        ax.set_xscale("log")
        ax.set_yscale("symlog", linthresh=1e-2)
        ax.set_xlabel("eigenvalue rank (largest first)")
        ax.set_ylabel("eigenvalue of L")
        ax.set_title(f"{negative_eigenvalues(mu).mean():.0%} negative", fontsize=9)
    fig.colorbar(im, ax=axes[0, :].tolist(), shrink=0.8,
                 label=f"L_ij (scale clipped below at {vmin:.2f})")
    return _save(fig, path), vmin


def xor_turns(runs, turns, path=None, layer="h1"):
    """XOR's LMN against step (linear x), its turning points marked.

    ``runs``: [(seed, rows)]; ``turns``: one list per run of (kind, step, value), kind "min" or "max".
    """
    fig = Figure(figsize=(8, 4), layout="constrained")
    ax = fig.subplots()
    for (seed, rows), tp in zip(runs, turns):
        color = seed_color(seed)
        ax.plot(*column(rows, f"lmn_{layer}"), color=color, lw=1, marker=".", ms=3, label=f"seed {seed}")
        _phase_marks(ax, seed, rows)
        for kind, s, v in tp:
            ax.plot([s], [v], "v" if kind == "min" else "^", color=color, ms=8)
            ax.annotate(f"{v:.1f}", (s, v), textcoords="offset points", xytext=(4, 6 if kind == "max" else -12),
                        fontsize=8, color=color)
    ax.axhline(15, color="gray", lw=0.6, ls="--")
    ax.axhline(20, color="gray", lw=0.6, ls="--")
    ax.set_xlabel("step (dotted: train accuracy reaches 1, dashed: test accuracy reaches 1)")
    ax.set_ylabel(f"LMN ({layer} → logits)")
    ax.set_title(f"XOR, {_seeds_label(runs)}: LMN; ▼ local minimum, ▲ local maximum; paper: 15 and 20 (grey)",
                 fontsize=9)
    ax.legend(fontsize=8)
    return _save(fig, path)
