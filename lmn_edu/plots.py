"""Figures from saved histories (matplotlib's object API: no global state, no display needed)."""
from pathlib import Path

from matplotlib.figure import Figure

from .history import column, phase_steps

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
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=120)
    return fig
