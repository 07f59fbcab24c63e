"""The report's figures section: Fig 2 (all seeds), Fig 3, test loss against LMN and L2,
Appendix B and XOR's turning points, each saying which seeds it shows."""
import numpy as np

from .. import plots
from ..analysis import negative_eigenvalues, on_grid, window_arrays
from .fill import GRID
from .readings import lmn_from_eigenvalues

LINK = "figures/reproduction"


def _seeds(runs):
    seeds = [r[0] for r in runs]
    return f"seed{'s' if len(seeds) != 1 else ''} {', '.join(map(str, seeds))}"


def _fig2(present, figdir):
    plots.fig2_seeds(present, figdir / "fig2.png")
    shown = "; ".join(f"{t}: {_seeds(r)}" for t, r in present.items())
    return ["### Fig 2: accuracy, LMN (h1) and L2 against step", "", f"![Fig 2]({LINK}/fig2.png)", "",
            f"Shown: {shown}. One colour per seed in every panel; each seed's memorization step (dotted) "
            "and generalization step (dashed) are marked in its colour. No mean is drawn: the seeds differ "
            "in shape (XOR's bump, S4's plateaus). Step axis symlog, linear below 10, so step 0 is drawn "
            "at 0. LMN points are the measured steps, joined by straight lines.", ""]


def _fig3(present, figdir):
    add = [(s, r) for s, r in present.get("add", []) if any(x.get("lmn_emb") is not None for x in r)]
    if not add:
        return ["### Fig 3: LMN of every layer (addition)", "", "*Missing: no addition run with the emb layer measured.*", ""]
    plots.fig3_layers(add, figdir / "fig3.png")
    return ["### Fig 3: LMN of every layer (addition)", "", f"![Fig 3]({LINK}/fig3.png)", "",
            f"Shown: add, {_seeds(add)} (the only run{'s' if len(add) > 1 else ''} with emb and h2 measured). "
            "**Affine-prefix identity.** Drawing a line and applying an affine map commute, so the LMN "
            "measured from a layer equals the LMN measured right after the next affine map: "
            "LMN(emb) = LMN(z1), LMN(h1) = LMN(z2), and from h2 the rest of the network (W3) is affine, so "
            "LMN(h2 → logits) = 1 exactly. Our 3-layer MLP therefore has two non-trivial curves (emb and h1), "
            "not the three of the paper's Fig 3. The paper says its second-hidden-layer LMN “plateaus quickly "
            "after memorization”, so it was not identically 1: it was measured some other way, which the "
            "paper does not state; the readings below include h2 → probabilities.", ""]


def _vs_test_loss(present, figdir):
    pts = {}
    for t, runs in present.items():
        for s, rows in runs:
            a = window_arrays(on_grid(rows, GRID[t]), ("test_loss", "lmn_h1", "l2"))
            if len(a["test_loss"]) >= 4:
                pts.setdefault(t, []).append((s, a["test_loss"], a["lmn_h1"], a["l2"]))
    if not pts:
        return []
    plots.against_test_loss(pts, figdir / "vs_test_loss.png")
    shown = "; ".join(f"{t}: {_seeds(v)}" for t, v in pts.items())
    return ["### Test loss against LMN and L2 in the generalizing phase", "",
            f"![test loss against LMN and L2]({LINK}/vs_test_loss.png)", "",
            f"Shown: {shown}. Points: the common grid of each task (see “Linearity”); solid: least-squares "
            "line, dashed: least-squares parabola, per seed; the two right columns use log test loss.", ""]


def _appendix_b(mats, figdir, rows):
    if not mats:
        return ["### Appendix B", "", "*Missing: no L of add seed 0 (appendix_b.npz or snapshots).*", ""]
    _, vmin = plots.connectivity_panels({f"add seed 0, step {s}": v for s, v in mats.items()},
                                        figdir / "appendix_b.png")
    text = ("Shown: add, seed 0 only, at the steps of its snapshots. Rows and columns ordered by spectral "
            "clustering into 10 clusters (NumPy: affinity L clipped to [0, 1], k-means on the leading "
            f"eigenvectors). **Colour scale clipped**: from {vmin:.2f} (the 1st percentile of all L_ij "
            "shown) to 1; lower entries are drawn in the colour of the lower end. Bottom: all eigenvalues of "
            "L, symlog axis (linear within ±0.01). ")
    acc = {r["step"]: r["test_acc"] for r in rows}
    for s, (L, order, mu) in mats.items():
        L = L.astype(np.float64)
        text += (f"Step {s} (test accuracy {acc.get(s, float('nan')):.2f}): LMN {lmn_from_eigenvalues(mu):.1f} (with negative eigenvalues clipped to 0: "
                 f"{lmn_from_eigenvalues(mu, 'clip'):.1f}), mean off-diagonal L "
                 f"{(L.sum() - len(L)) / (len(L) ** 2 - len(L)):.3f}, {negative_eigenvalues(mu).mean():.0%} of eigenvalues "
                 f"negative (their |μ| sum {np.abs(mu[negative_eigenvalues(mu)]).sum() / np.abs(mu).sum():.1%} of Σ|μ|). ")
    return ["### Appendix B: the connectivity matrix L (h1 → logits, addition, train points)", "",
            f"![Appendix B]({LINK}/appendix_b.png)", "", text.strip(), ""]


def _xor(present, summ, figdir):
    xr = present.get("xor", [])
    if not xr:
        return []
    plots.xor_turns(xr, [summ["xor"][s]["turns"] for s, _ in xr], figdir / "xor_turns.png")
    return ["### XOR: LMN and its turning points", "", f"![XOR turning points]({LINK}/xor_turns.png)", "",
            f"Shown: xor, {_seeds(xr)}. Turning points: after the memorization step, the first local minimum "
            "of LMN with a prominence ≥ 0.5, then the first such local maximum after it (analysis.turning_points, "
            "the prominence of scipy.signal.find_peaks in NumPy). Dotted / dashed: each seed's memorization / "
            "generalization step.", ""]


def section(runs, summ, figdir, extras):
    present = {t: [(s, r[1]) for s, r in by.items() if r] for t, by in runs.items()}
    present = {t: v for t, v in present.items() if v}
    md = ["## Figures", ""]
    md += _fig2(present, figdir)
    md += _fig3(present, figdir)
    md += _vs_test_loss(present, figdir)
    md += _appendix_b(extras["appendix_b"], figdir, dict(present.get("add", [])).get(0, []))
    md += _xor(present, summ, figdir)
    return md
