# %% [markdown]
# # Lesson 10 — the connectivity matrix across training
#
# **Goals.** Look inside the LMN: the matrix L at initialization, memorization and mid-generalization (Appendix B); count negative eigenvalues; try a spectral ordering.
#
# **Prerequisites.** Lessons 05, 07.
#
# **Time.** quick mode (`LMN_EDU_QUICK=1`): 10–30 s (reads the committed matrices); full mode: about 1–2 min (65 s on an idle 2-core Intel Xeon, AVX-512).
# Exercises at the end: stubs in `lessons/exercises/10_connectivity_across_training.py`.
#
# Appendix B of the paper looks inside the LMN: the matrix L itself (from h1 to the logits,
# addition mod 31, on the training pairs) at three moments:
#
# - step 0, initialization: "linear connectivity is also strong" — a freshly initialised
#   network is close to linear;
# - step 200, memorization: the network has bent itself around every training pair;
# - step 7600, generalization: "off-diagonal elements of L are on average larger", the
#   network is simpler again.
#
# We look at L, its eigenvalues (how many are negative?) and, to make its structure visible,
# reorder the points by *spectral clustering* (von Luxburg's tutorial, the paper's ref [23];
# `lmn_edu.analysis.spectral_order`): if L were block-diagonal, that order would show the blocks.
#
# Full mode trains the run with `lmn_edu.train.train`, keeping the parameters at those steps
# (`RunConfig(snapshot_steps=...)`), and builds L on all 768 training pairs. Quick mode reads
# the committed run's matrices (results/paper: the same run, the same 768 pairs).

# %%
from lmn_edu import course
from lmn_edu.course import check, compare, observe, pick

import numpy as np
from matplotlib.figure import Figure

import lmn_edu
from lmn_edu.analysis import spectral_order
from lmn_edu.config import RunConfig
from lmn_edu.history import load_params
from lmn_edu.rundir import snapshot_path
from lmn_edu.train import setup_run

LESSON = "10_connectivity_across_training"
KEEP = (0, 200, 7600)
config = RunConfig(task="add", steps=max(KEEP), eval_every=100, lmn_layers=(), snapshot_steps=KEEP,
                   out=str(course.output_root() / "runs"), name="add-appendix-b").validated()
course.header(
    "Lesson 10: the connectivity matrix across training",
    f"no training: L at steps {KEEP} from the committed full-size run (results/paper), on its 768 training pairs",
    f"trains {config.steps} steps keeping the parameters at steps {KEEP}, then L on all 768 training pairs; "
    "about 1–2 minutes of CPU time")

# %%
task, train_idx, test_idx, _ = setup_run(config)            # the same split and init as lessons 07–09
points = task.inputs[train_idx]                               # (768, 2)
if course.quick():
    rows = course.paper_run("add")[1]
    snapshots = {step: course.paper_snapshot(step) for step in KEEP}
else:
    rows, _ = course.run_history(config)
    snapshots = {step: load_params(snapshot_path(config.run_dir, step)) for step in KEEP}
evals = {r["step"]: r for r in rows if r["step"] in KEEP}
for step, e in evals.items():
    print(f"step {step:5d}: train acc {e['train_acc']:.3f}, test acc {e['test_acc']:.3f}, L2 {e['l2']:.2f}")
check(evals[200]["train_acc"] == 1.0 and evals[200]["test_acc"] < 0.1, "step 200 is memorization: train 100%, test near chance")

# %% [markdown]
# ## L, its LMN and its eigenvalues at each snapshot
#
# An eigenvalue that is 0 in exact arithmetic comes out of floating point as ±1e-16 or so. We
# count μ as negative only below −1e-12 · max|μ| and as positive only above +1e-12 · max|μ|
# (the tolerance of the exercise `negative_share`): a rounding zero is neither.

# %%
ROUNDING = 1e-12                                              # relative to max|μ|, as in negative_share


def signs(mu):
    """(positive, negative): boolean masks of the eigenvalues μ, rounding zeros in neither."""
    tol = ROUNDING * np.abs(mu).max()
    return mu > tol, mu < -tol


B = np.kron(np.eye(3), np.ones((4, 4)))                      # 3 blocks of 4: eigenvalues 4, 4, 4 and nine zeros
mu_B = lmn_edu.spectrum(B)[0]
print(f"3 blocks of 4: {np.sum(mu_B < 0)} of the nine zero eigenvalues come out below 0 (the lowest {mu_B.min():.1e})")
check(signs(mu_B)[0].sum() == 3 and signs(mu_B)[1].sum() == 0,
      "with the tolerance, a block L has three positive eigenvalues and no negative one")

Ls, spectra = {}, {}
print(f"{'step':>5s} {'LMN':>7s} {'mean L_ij':>9s} {'L_ij > 0.9':>10s} {'negative μ':>10s} {'their Σ|μ| share':>16s} {'min μ':>8s}")
for step, p in snapshots.items():
    if course.quick():
        L = course.paper_connectivity(step)[0]                # (768, 768), stored to float16 precision
        sub = lmn_edu.layer_connectivity(p, points[:40], "h1")
        check(np.allclose(L[:40, :40], sub, rtol=0, atol=1e-3),
              f"step {step}: the committed L is these params' L (first 40 pairs, to float16 rounding)")
    else:
        L = lmn_edu.layer_connectivity(p, points, "h1")       # (768, 768)
    mu, prob = lmn_edu.spectrum(L)
    off = L[~np.eye(len(L), dtype=bool)]
    Ls[step], spectra[step] = L, mu
    print(f"{step:5d} {lmn_edu.linear_mapping_number(L):7.2f} {off.mean():9.3f} {np.mean(off > 0.9):10.1%} "
          f"{np.mean(signs(mu)[1]):10.1%} {prob[signs(mu)[1]].sum():16.1%} {mu.min():8.2f}")
    check(np.allclose(L, L.T) and np.all(np.diag(L) == 1), f"step {step}: L is symmetric with unit diagonal")

mean_off = {s: L[~np.eye(len(L), dtype=bool)].mean() for s, L in Ls.items()}
late = KEEP[-1]
print(f"at step {late} test accuracy is {evals[late]['test_acc']:.3f}: the network is generalizing, not yet generalized")
compare(mean_off[late] > mean_off[200],
        f"off-diagonal L is larger on average at step {late} than at memorization (step 200): "
        f"{mean_off[late]:.4f} vs {mean_off[200]:.4f}")
compare(mean_off[0] > mean_off[200], f"initialization is more linearly connected than memorization: "
        f"{mean_off[0]:.3f} vs {mean_off[200]:.3f}")
compare(all(np.mean(signs(mu)[1]) < 0.05 for mu in spectra.values()),
        "only a few eigenvalues are negative (paper: 'a few small'; below −1e-12 · max|μ|, rounding zeros not counted)")

# %% [markdown]
# ## What do linearly connected pairs share?
#
# The training pairs are listed in order of their first token a, and at step 200 the
# picture below shows squares along the diagonal: pairs with the same a. Let us measure the
# mean L_ij over pairs of points that share the first token, the second token, the answer
# a + b mod 31, or nothing.

# %%
a, b, y = points[:, 0], points[:, 1], task.labels[train_idx]
offdiag = ~np.eye(len(points), dtype=bool)
relations = {"same a": a[:, None] == a[None, :], "same b": b[:, None] == b[None, :],
             "same answer": y[:, None] == y[None, :]}
relations["none of these"] = ~np.logical_or.reduce(list(relations.values()))
print(f"{'step':>5s} " + " ".join(f"{name:>14s}" for name in relations))
for step, L in Ls.items():
    print(f"{step:5d} " + " ".join(f"{L[m & offdiag].mean():14.3f}" for m in relations.values()))

# %% [markdown]
# ## Spectral-cluster ordering
#
# Treat L (clipped to [0, 1]) as the similarity of the points; the leading eigenvectors of
# D^-½ L D^-½ place similar points close together, and k-means on them gives k groups
# (`lmn_edu.analysis.spectral_order`, NumPy only). We take k = round(LMN), at most 30, and list
# the points group by group. If L were block-diagonal, the reordered picture would show
# bright squares on the diagonal.

# %%
orders = {}
for step, L in Ls.items():
    k = min(30, max(2, int(round(lmn_edu.linear_mapping_number(L)))))
    orders[step] = spectral_order(L, n_clusters=k)
    Lo = L[np.ix_(orders[step], orders[step])]
    near = np.abs(np.subtract.outer(np.arange(len(L)), np.arange(len(L)))) <= 20   # within 20 places
    print(f"step {step:5d}: k = {k}; mean L between points at most 20 places apart: training order "
          f"{L[near & ~np.eye(len(L), dtype=bool)].mean():.3f}, spectral order {Lo[near & ~np.eye(len(L), dtype=bool)].mean():.3f}")

# %%
vmin = min(np.percentile(L, 1) for L in Ls.values())          # L is mostly close to 1: stretch the colours
fig = Figure(figsize=(14, 12), layout="constrained")
axes = fig.subplots(3, 3)
for row, step in zip(axes, KEEP):
    for ax, order, name in ((row[0], np.arange(len(Ls[step])), "training order"), (row[1], orders[step], "spectral-cluster order")):
        im = ax.imshow(Ls[step][np.ix_(order, order)], cmap="magma", vmin=vmin, vmax=1, interpolation="nearest")
        ax.set_title(f"step {step}: L, {name}")
        ax.set_xlabel("point j")
        ax.set_ylabel("point i")
    fig.colorbar(im, ax=row[:2], label="L_ij (colours clipped below the 1st percentile)", shrink=0.9)
    mu = spectra[step]
    positive, negative = signs(mu)
    pos, neg = np.sort(mu[positive])[::-1], np.sort(-mu[negative])[::-1]
    row[2].semilogy(np.arange(1, len(pos) + 1), pos, "-", label=f"positive μ ({len(pos)})")
    row[2].semilogy(np.arange(1, len(neg) + 1), neg, "--", color="red", label=f"|negative μ| ({len(neg)})")
    zeros = len(mu) - len(pos) - len(neg)
    row[2].set_title(f"step {step}: eigenvalues, LMN = {lmn_edu.linear_mapping_number(Ls[step]):.2f}"
                     + (f" ({zeros} rounding zeros not shown)" if zeros else ""))
    row[2].set_xlabel("rank among eigenvalues of the same sign")
    row[2].set_ylabel("|μ|")
    row[2].legend(fontsize=8)
course.save(fig, LESSON, "connectivity_matrices")
course.done()

# %% [markdown]
# ## Exercises
#
# Edit the stubs in `lessons/exercises/10_connectivity_across_training.py`, then check them from the repository root
# (or from `lessons/`) with `python -m lmn_edu.course check 10`: ✓ or ✗ per exercise. Stuck? Add
# `--hint` for a nudge, `--hint 2` and `--hint 3` for more of the idea (never the code). Easy to hard:
#
# 1. ★ (5 min) **Implement** `mean_offdiagonal`: the mean connectivity of distinct pairs.
# 2. ★★ (15 min) **Implement** `negative_share`: the fraction of negative eigenvalues and their share of Σ|μ|, rounding zeros not counted.
# 3. ★★★ (25 min) **Implement** `linear_groups`: the groups of points that chains of links L_ij > threshold join.
# 4. **Predict, then run.** At step 10600 (generalized; `course.paper_connectivity(10600)`), will the mean off-diagonal L be above or below step 7600's 0.975? Check with your function.
# 5. **Open question.** Linearly connected pairs share their first token more than their answer (the table above). What would a network that had found the "clock" algorithm for addition show instead?
