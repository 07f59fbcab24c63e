# %% [markdown]
# # Lesson 10 — the connectivity matrix across training
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
# reorder the points by *spectral clustering* (von Luxburg's tutorial, the paper's ref [23])
# into round(LMN) groups: if L were block-diagonal, that order would show the blocks.
#
# `lmn_edu.train.train` keeps only the final parameters, so here we drive the training
# backend ourselves and keep a copy of the parameters at the steps we want.

# %%
from lmn_edu import course
from lmn_edu.course import check, compare, pick

import numpy as np
from matplotlib.figure import Figure
from scipy.cluster.vq import kmeans2

import lmn_edu
from lmn_edu.train import start_backend

LESSON = "10_connectivity_across_training"
KEEP = pick((0, 200, 600), (0, 200, 7600))
N_POINTS = pick(200, None)
config = lmn_edu.RunConfig(task="add").validated()
course.header(
    "Lesson 10: the connectivity matrix across training",
    f"snapshots at steps {KEEP} (600 stands in for 7600: not generalized yet), L on the first {N_POINTS} of the "
    "768 training pairs",
    f"snapshots at steps {KEEP}, L on all 768 training pairs; about 1–2 minutes of CPU time")

# %%
backend, task, train_idx, test_idx = start_backend(config)   # the same split and init as lessons 07–09
snapshots, evals = {}, {}
for step in range(max(KEEP) + 1):
    if step in KEEP:
        snapshots[step] = backend.params()
        evals[step] = backend.evaluate()
    if step < max(KEEP):
        backend.step()
for step, e in evals.items():
    print(f"step {step:5d}: train acc {e['train_acc']:.3f}, test acc {e['test_acc']:.3f}, L2 {e['l2']:.2f}")
check(evals[200]["train_acc"] == 1.0 and evals[200]["test_acc"] < 0.1, "step 200 is memorization: train 100%, test near chance")

# %% [markdown]
# ## L, its LMN and its eigenvalues at each snapshot

# %%
points = task.inputs[train_idx[:N_POINTS]]
Ls, spectra = {}, {}
print(f"{'step':>5s} {'LMN':>7s} {'mean L_ij':>9s} {'L_ij > 0.9':>10s} {'negative μ':>10s} {'their Σ|μ| share':>16s} {'min μ':>8s}")
for step, p in snapshots.items():
    L = lmn_edu.layer_connectivity(p, points, "h1")           # (N, N)
    mu, prob = lmn_edu.spectrum(L)
    off = L[~np.eye(len(L), dtype=bool)]
    Ls[step], spectra[step] = L, mu
    print(f"{step:5d} {lmn_edu.linear_mapping_number(L):7.2f} {off.mean():9.3f} {np.mean(off > 0.9):10.1%} "
          f"{np.mean(mu < 0):10.1%} {prob[mu < 0].sum():16.1%} {mu.min():8.2f}")
    check(np.allclose(L, L.T) and np.all(np.diag(L) == 1), f"step {step}: L is symmetric with unit diagonal")

mean_off = {s: L[~np.eye(len(L), dtype=bool)].mean() for s, L in Ls.items()}
late = KEEP[-1]
compare(mean_off[late] > mean_off[200],
        f"off-diagonal L is larger on average at step {late} than at memorization (step 200): "
        f"{mean_off[late]:.4f} vs {mean_off[200]:.4f}")
compare(mean_off[0] > mean_off[200], f"initialization is more linearly connected than memorization: "
        f"{mean_off[0]:.3f} vs {mean_off[200]:.3f}")
compare(all(np.mean(mu < 0) < 0.05 for mu in spectra.values()), "only a few eigenvalues are negative (paper: 'a few small')")

# %% [markdown]
# ## What do linearly connected pairs share?
#
# The training pairs are listed in order of their first token a, and at step 200 the
# picture below shows squares along the diagonal: pairs with the same a. Let us measure the
# mean L_ij over pairs of points that share the first token, the second token, the answer
# a + b mod 31, or nothing.

# %%
a, b, y = points[:, 0], points[:, 1], task.labels[train_idx[:N_POINTS]]
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
# Treat L (clipped to [0, 1]) as the similarity of the points; the eigenvectors of the
# normalised graph Laplacian I − D^-½ L D^-½ with the k smallest eigenvalues place similar
# points close together; k-means on them gives k groups. We take k = round(LMN) and list the
# points group by group. Reordering the points permutes the rows and columns of L: the
# eigenvalues, and so the LMN, are unchanged.

# %%
def spectral_order(L, k, seed=0):
    """Order of the points by spectral clustering into k groups (largest group first)."""
    W = np.clip(L, 0.0, 1.0)
    d = W.sum(axis=1)
    lap = np.eye(len(W)) - W / np.sqrt(np.outer(d, d))      # normalised Laplacian
    _, vecs = np.linalg.eigh(lap)
    U = vecs[:, :k]                                           # (N, k)
    U = U / np.linalg.norm(U, axis=1, keepdims=True)
    _, labels = kmeans2(U, k, seed=seed, minit="++")
    sizes = np.bincount(labels, minlength=k)
    rank = np.argsort(np.argsort(-sizes))                     # group → its position by size
    return np.argsort(rank[labels], kind="stable"), labels


orders = {}
for step, L in Ls.items():
    lmn_value = lmn_edu.linear_mapping_number(L)
    k = max(2, int(round(lmn_value)))
    order, labels = spectral_order(L, k)
    orders[step] = order
    Lo = L[np.ix_(order, order)]
    same = labels[:, None] == labels[None, :]
    offdiag = ~np.eye(len(L), dtype=bool)
    within, between = L[same & offdiag].mean(), L[~same].mean()
    print(f"step {step:5d}: k = {k} groups of sizes {sorted(np.bincount(labels).tolist(), reverse=True)}; "
          f"mean L within groups {within:.3f}, between {between:.3f}")
    check(np.isclose(lmn_edu.linear_mapping_number(Lo), lmn_value), f"step {step}: reordering leaves the LMN unchanged")
    compare(within > between, f"step {step}: points are more linearly connected within a group than between groups")

# %%
vmin = min(np.percentile(L, 1) for L in Ls.values())          # L is mostly close to 1: stretch the colours
fig = Figure(figsize=(13, 12), layout="constrained")
axes = fig.subplots(3, 3)
for row, step in zip(axes, KEEP):
    row[0].imshow(Ls[step], cmap="magma", vmin=vmin, vmax=1, interpolation="nearest")
    row[0].set_title(f"step {step}: L (training order)")
    row[1].imshow(Ls[step][np.ix_(orders[step], orders[step])], cmap="magma", vmin=vmin, vmax=1, interpolation="nearest")
    row[1].set_title(f"step {step}: L, spectral-cluster order")
    mu = np.sort(spectra[step])[::-1]
    row[2].semilogy(np.flatnonzero(mu > 0) + 1, mu[mu > 0], ".", ms=3, label="positive")
    row[2].semilogy(np.flatnonzero(mu < 0) + 1, -mu[mu < 0], ".", ms=3, color="red", label="negative (|μ|)")
    row[2].set_title(f"step {step}: eigenvalues, LMN = {lmn_edu.linear_mapping_number(Ls[step]):.2f}")
    row[2].set_xlabel("eigenvalues in decreasing order")
    row[2].legend(fontsize=8)
course.save(fig, LESSON, "connectivity_matrices")
course.done()
