"""Figures from saved histories (matplotlib's object API: no global state, no display needed)."""
from pathlib import Path

from matplotlib.figure import Figure

from .analysis import column, phase_steps

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


# ---------------------------------------------------------------- reproduction figures
# Used by reproduce.py; each takes saved rows (or arrays) and returns a Figure, saved when ``path`` is set.

SEED_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def _save(fig, path, dpi=100):
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=dpi)
    return fig


def _band(ax, runs, key, color, label):
    """Each seed as a thin line; the min–max band over seeds on the steps every seed measured."""
    import numpy as np

    series = [dict(zip(*column(rows, key))) for rows in runs]
    series = [s for s in series if s]
    sparse = key.startswith("lmn_")                  # LMN is measured on a schedule: show where
    for s in series:
        steps = sorted(s)
        ax.plot([max(t, 1) for t in steps], [s[t] for t in steps], color=color,
                lw=0.6 if len(series) > 1 else 1.3, alpha=0.5 if len(series) > 1 else 1.0,
                marker="." if sparse else None, ms=3)
    if len(series) > 1:
        common = sorted(set.intersection(*(set(s) for s in series)))
        if common:
            v = np.array([[s[t] for t in common] for s in series])    # (seeds, steps)
            x = [max(t, 1) for t in common]
            ax.fill_between(x, v.min(0), v.max(0), color=color, alpha=0.25, lw=0)
            ax.plot(x, v.mean(0), color=color, lw=1.4, label=f"{label} (mean of {len(series)})")
            return
    if series:
        ax.plot([], [], color=color, label=label)


def _shade_median_phases(ax, runs):
    """Shade the phases at the median memorization / generalization step over seeds."""
    import numpy as np

    runs = [r for r in runs if r]
    if not runs:
        return
    mems, gens = zip(*(phase_steps(r) for r in runs))
    last = max(r[-1]["step"] for r in runs)
    mem = float(np.median([m if m is not None else last for m in mems]))
    gen = float(np.median([g if g is not None else last for g in gens]))
    for (name, color), a, b in zip(PHASE_COLORS.items(), (1, mem, gen), (mem, gen, last)):
        if b > a:
            ax.axvspan(max(a, 1), b, color=color, alpha=0.6, lw=0, label=name)


def fig2_seeds(task_runs, path=None, layer="h1"):
    """Fig 2 with seed bands: a row per task (accuracy, LMN of ``layer``, L2 against step, log x)."""
    tasks = list(task_runs)
    fig = Figure(figsize=(13, 3.2 * len(tasks)), layout="constrained")
    axes = fig.subplots(len(tasks), 3, squeeze=False)
    for row_axes, task in zip(axes, tasks):
        runs = task_runs[task]
        n = len([r for r in runs if r])
        panels = [("accuracy", [("train_acc", "train", SEED_COLORS[0]), ("test_acc", "test", SEED_COLORS[1])]),
                  (f"LMN ({layer} → logits)", [(f"lmn_{layer}", "LMN", SEED_COLORS[2])]),
                  ("L2 norm of parameters", [("l2", "L2", SEED_COLORS[3])])]
        for ax, (ylabel, series) in zip(row_axes, panels):
            _shade_median_phases(ax, runs)
            for key, label, color in series:
                _band(ax, runs, key, color, label)
            ax.set_xscale("log")
            ax.set_xlabel("step")
            ax.set_ylabel(ylabel)
            ax.set_title(f"{task} ({n} seed{'s' if n != 1 else ''})", fontsize=9)
            ax.legend(fontsize=7)
    return _save(fig, path)


def fig3_layers(runs, path=None, layers=("emb", "h1", "h2")):
    """LMN of every measured layer against step (addition); z1 = emb and z2 = h1 by the identity."""
    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.subplots()
    _shade_median_phases(ax, runs)
    names = {"emb": "emb (= z1)", "h1": "h1 (= z2)", "h2": "h2 (→ logits affine: 1)"}
    for layer, color in zip(layers, SEED_COLORS):
        _band(ax, runs, f"lmn_{layer}", color, names.get(layer, layer))
    ax.set_xscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("LMN (layer → logits)")
    ax.legend(fontsize=8)
    ax.set_title("LMN of every layer; affine-prefix identity: LMN(emb)=LMN(z1), LMN(h1)=LMN(z2), "
                 "LMN(h2)=1", fontsize=8)
    return _save(fig, path)


def against_test_loss(task_points, path=None):
    """LMN and L2 against test loss in the generalizing phase, with a linear fit and Pearson r per seed.

    ``task_points``: task -> list of (seed, test_loss, lmn, l2) arrays for that seed's generalizing phase.
    """
    import numpy as np

    tasks = list(task_points)
    fig = Figure(figsize=(9, 3.2 * max(len(tasks), 1)), layout="constrained")
    axes = fig.subplots(max(len(tasks), 1), 2, squeeze=False)
    for row_axes, task in zip(axes, tasks):
        for ax, (idx, name) in zip(row_axes, ((2, "LMN (h1)"), (3, "L2"))):
            for (seed, *cols), color in zip(task_points[task], SEED_COLORS):
                x, y = np.asarray(cols[idx - 1]), np.asarray(cols[0])
                if len(x) < 3:
                    continue
                r = np.corrcoef(x, y)[0, 1]
                a, b = np.polyfit(x, y, 1)
                ax.scatter(x, y, s=8, color=color, alpha=0.7)
                xs = np.linspace(x.min(), x.max(), 2)
                ax.plot(xs, a * xs + b, color=color, lw=1, label=f"seed {seed}: r = {r:.3f}")
            ax.set_xlabel(name)
            ax.set_ylabel("test loss")
            ax.set_title(f"{task}: generalizing phase", fontsize=9)
            ax.legend(fontsize=7)
    return _save(fig, path)


def connectivity_panels(mats, path=None):
    """Appendix B: L ordered by spectral clustering (``mats``: title -> (L, order)) and its eigenvalues."""
    import numpy as np

    fig = Figure(figsize=(4 * len(mats), 7.5), layout="constrained")
    axes = fig.subplots(2, len(mats), squeeze=False)
    # one colour scale for all panels, from the 1st percentile of every L_ij: L is mostly near 1
    vmin = min(float(np.percentile(np.asarray(L, dtype=np.float64), 1)) for L, _, _ in mats.values())
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
        ax.set_title(f"{(mu < 0).mean():.0%} negative", fontsize=9)
    fig.colorbar(im, ax=axes[0, :].tolist(), shrink=0.8, label="L_ij")
    return _save(fig, path)


def xor_turns(runs, turns, path=None, layer="h1"):
    """XOR's LMN against step (linear x), its turning points marked.

    ``turns``: one list per run of (kind, step, value), kind "min" or "max".
    """
    fig = Figure(figsize=(8, 4), layout="constrained")
    ax = fig.subplots()
    for (seed, rows), tp, color in zip(runs, turns, SEED_COLORS):
        steps, values = column(rows, f"lmn_{layer}")
        ax.plot(steps, values, color=color, lw=1, marker=".", ms=3, label=f"seed {seed}")
        _, gen = phase_steps(rows)
        if gen is not None:
            ax.axvline(gen, color=color, ls=":", lw=1)
        for kind, s, v in tp:
            ax.plot([s], [v], "v" if kind == "min" else "^", color=color, ms=8)
            ax.annotate(f"{v:.1f}", (s, v), textcoords="offset points", xytext=(4, 6 if kind == "max" else -12),
                        fontsize=8, color=color)
    ax.axhline(15, color="gray", lw=0.6, ls="--")
    ax.axhline(20, color="gray", lw=0.6, ls="--")
    ax.set_xlabel("step (dotted: test accuracy reaches 1)")
    ax.set_ylabel(f"LMN ({layer} → logits)")
    ax.set_title("XOR: LMN; ▼ local minimum, ▲ local maximum; paper: 15 and 20 (dashed)",
                 fontsize=9)
    ax.legend(fontsize=8)
    return _save(fig, path)
