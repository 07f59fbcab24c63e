# %% [markdown]
# # Lesson 05 — from the connectivity matrix L to the linear mapping number
#
# **Goals.** Turn L into the linear mapping number LMN = 2^S_NL (eq 3); read LMN as a soft count of linear pieces; meet negative eigenvalues and the dependence on the number of points.
#
# **Prerequisites.** Lesson 04; eigenvalues of a symmetric matrix; entropy.
#
# **Time.** about 5 s of CPU time, in quick mode (`LMN_EDU_QUICK=1`) and full mode alike (the same work).
# Exercises at the end: stubs in `lessons/exercises/05_from_L_to_LMN.py`.
#
# Lesson 04 built L: L_ij ≈ 1 when f is linear between points i and j. If f were made of c
# separate linear pieces, the points would fall into c groups, linearly connected inside a
# group and not across — L would be block-diagonal with c blocks of ones. Counting linear
# mappings is then counting clusters.
#
# Rather than a hard clustering, the paper uses a soft count borrowed from quantum physics
# (von Neumann entropy, eq 3): take the eigenvalues μ of L, turn their absolute values into
# a probability distribution p_i = |μ_i| / Σ_j |μ_j|, and compute its entropy
#
#     S_NL = −Σ p_i log₂ p_i   (bits),      LMN = 2^S_NL.
#
# c equal, perfectly separated blocks give c equal nonzero eigenvalues: S_NL = log₂ c and
# LMN = c exactly. Everything else gives a number in between: LMN is a *soft* count.

# %%
from lmn_edu import course
from lmn_edu.course import check, pick

import numpy as np
from matplotlib.figure import Figure

import lmn_edu

LESSON = "05_from_L_to_LMN"
N_NET = pick(150, 768)
course.header("Lesson 05: from L to LMN", f"the network example uses {N_NET} points instead of 768",
               f"the network example uses all {N_NET} training points; about half a minute of CPU time")


def blocks(*sizes):
    """Block-diagonal L: one all-ones block per group (perfect linear connectivity inside)."""
    group = np.repeat(np.arange(len(sizes)), sizes)          # (N,) the group of each point
    return (group[:, None] == group[None, :]).astype(float)  # (N, N)


# %% [markdown]
# ## c equal blocks: LMN = c

# %%
for c in (1, 2, 3, 5, 8):
    L = blocks(*[6] * c)                               # (6c, 6c)
    mu, p = lmn_edu.spectrum(L)
    n = lmn_edu.linear_mapping_number(L)
    print(f"{c} blocks of 6: nonzero eigenvalues {np.round(mu[np.abs(mu) > 1e-9], 3)}, "
          f"S_NL = {lmn_edu.nonlinear_entropy(L):.3f} bits, LMN = {n:.3f}")
    check(np.isclose(n, c), f"{c} equal blocks: LMN = {c}")

L = np.eye(10)
check(np.isclose(lmn_edu.linear_mapping_number(L), 10), "L = identity (no two points connected): LMN = N = 10")

# %% [markdown]
# ## Unequal blocks: a soft count
#
# Blocks of sizes 12, 6 and 2 have eigenvalues 12, 6, 2, so p = (0.6, 0.3, 0.1):
# LMN = 2^H(p) ≈ 2.45, fewer than 3, because the small group carries little weight.
# The LMN is the "effective number" of linear pieces, weighted by how many points use each.

# %%
L = blocks(12, 6, 2)
q = np.array([12, 6, 2]) / 20
expected = 2 ** -(q * np.log2(q)).sum()
n = lmn_edu.linear_mapping_number(L)
print(f"blocks 12, 6, 2: LMN = {n:.3f}; 2^H(0.6, 0.3, 0.1) = {expected:.3f}")
check(np.isclose(n, expected), "unequal blocks: LMN = 2^(entropy of the block fractions)")

# %% [markdown]
# ## Partly connected blocks
#
# Real networks are never perfectly separated. Put a connectivity ε between the blocks
# of 3 equal groups: LMN falls smoothly from 3 (ε = 0) to 1 (ε = 1, everything linear).

# %%
eps_grid = np.linspace(0, 1, 11)
lmn_eps = []
for eps in eps_grid:
    L = eps + (1 - eps) * blocks(10, 10, 10)
    lmn_eps.append(lmn_edu.linear_mapping_number(L))
print("ε   → LMN:", ", ".join(f"{e:.1f}→{v:.2f}" for e, v in zip(eps_grid, lmn_eps)))
check(np.isclose(lmn_eps[0], 3) and np.isclose(lmn_eps[-1], 1) and np.all(np.diff(lmn_eps) < 0),
      "LMN decreases smoothly from 3 to 1 as the blocks connect")

# %% [markdown]
# ## Why "von Neumann" entropy
#
# In quantum mechanics a density matrix ρ is symmetric, positive semi-definite, with trace 1;
# its von Neumann entropy is −tr(ρ log ρ) = −Σ p log p over its eigenvalues p. When L is
# positive semi-definite, ρ = L / tr L = L / N is such a matrix (tr L = N because L_ii = 1),
# and S_NL is exactly its entropy. We check that with a matrix logarithm computed without any
# eigenvalues: the series log ρ = log c · I − Σ_k Aᵏ / k with A = I − ρ / c, which converges
# because c (the largest row sum of |ρ|) bounds the eigenvalues of ρ.

# %%
def logm_series(rho, terms=3000):
    """Matrix logarithm of a positive definite matrix by the Mercator series (no eigenvalues)."""
    c = np.abs(rho).sum(axis=1).max()
    A = np.eye(len(rho)) - rho / c
    term, total = np.eye(len(rho)), np.zeros_like(rho)
    for k in range(1, terms + 1):
        term = term @ A
        total -= term / k
    return np.log(c) * np.eye(len(rho)) + total


L = 0.1 + 0.5 * blocks(5, 4, 3) + 0.4 * np.eye(12)    # (12, 12), L_ii = 1, positive definite
rho = L / np.trace(L)
S_vn = -np.trace(rho @ logm_series(rho)) / np.log(2)     # −tr(ρ log₂ ρ), no eigenvalues involved
print(f"von Neumann entropy −tr(ρ log₂ ρ) = {S_vn:.6f} bits; S_NL = {lmn_edu.nonlinear_entropy(L):.6f} bits")
check(np.isclose(S_vn, lmn_edu.nonlinear_entropy(L), rtol=1e-9), "for a positive semi-definite L, S_NL is the von Neumann entropy of L / N")

# %% [markdown]
# ## Negative eigenvalues
#
# A block-diagonal L is a Gram matrix and has no negative eigenvalues. But linear
# connectivity is not *transitive*: f can be linear from x₁ to x₂ and from x₂ to x₃ and
# still bend between x₁ and x₃. The smallest example:
#
#     L = [[1, 1, 0], [1, 1, 1], [0, 1, 1]]   eigenvalues 1 − √2, 1, 1 + √2
#
# One eigenvalue is negative. Eq (3) takes absolute values. The paper calls the negative
# ones "a few small" ones; on a real network we count them.
#
# Also note how LMN depends on N, the number of points: L of an untrained network on 150
# points and on 768 points gives quite different LMNs (many small eigenvalues each add a
# little entropy). Compare LMNs only at the same N — quick-mode numbers are not full-mode ones.

# %%
L3 = np.array([[1.0, 1, 0], [1, 1, 1], [0, 1, 1]])
mu, p = lmn_edu.spectrum(L3)
print(f"chain x₁ — x₂ — x₃: eigenvalues {np.round(mu, 4)}; LMN = {lmn_edu.linear_mapping_number(L3):.3f}")
check(np.isclose(mu.min(), 1 - np.sqrt(2)), "a non-transitive L has a negative eigenvalue, 1 − √2")

rng = np.random.default_rng(0)
task = lmn_edu.make_task("add")
train_idx, _ = lmn_edu.split(task, 0.8, rng)
params = lmn_edu.init_params(rng, task.vocab_size, task.n_classes)
points = task.inputs[train_idx[:N_NET]]
L = lmn_edu.layer_connectivity(params, points, layer="h1")
mu, p = lmn_edu.spectrum(L)
tol = 1e-12 * np.abs(mu).max()                          # a zero eigenvalue comes out as ±1e-16: neither sign
neg = mu < -tol
print(f"untrained MLP, layer h1 → logits, {N_NET} add pairs: LMN = {lmn_edu.linear_mapping_number(L):.2f}; "
      f"{neg.mean():.0%} of eigenvalues are negative, carrying {p[neg].sum():.1%} of Σ|μ|; "
      f"most negative {mu.min():.2e}, largest {mu.max():.1f}")
check(mu.max() >= np.abs(mu).max(), "the eigenvalue largest in magnitude is positive (Perron–Frobenius: L ≥ 0)")
top = mu[np.argsort(-np.abs(mu))[:10]]                 # (10,) the largest in magnitude
print("the 10 eigenvalues largest in magnitude:", np.round(top, 2))
course.compare(neg.mean() < 0.05 and np.all(top > 0),
                f"the paper expects only a few small negative eigenvalues; here {neg.sum()} of {len(mu)} are negative")

# %%
fig = Figure(figsize=(14, 4.2), layout="constrained")
ax1, ax2, ax3 = fig.subplots(1, 3)
im = ax1.imshow(0.2 + 0.8 * blocks(12, 6, 2), vmin=0, vmax=1, cmap="magma")
fig.colorbar(im, ax=ax1).ax.set_title("L_ij", fontsize=9)   # above the bar: a side label would run into ax2's
ax1.set_title("L: blocks 12, 6, 2 with ε = 0.2")
ax1.set_xlabel("point j")
ax1.set_ylabel("point i")
ax2.plot(eps_grid, lmn_eps, "o-")
ax2.set_xlabel("connectivity ε between blocks")
ax2.set_ylabel("LMN")
ax2.set_title("3 blocks of 10")
pos, negs = np.sort(mu[mu > tol])[::-1], np.sort(-mu[mu < -tol])[::-1]   # each sign by its own rank
ax3.semilogy(np.arange(1, len(pos) + 1), pos, "-", label=f"positive: {len(pos)} ({len(pos) / len(mu):.0%})")
ax3.semilogy(np.arange(1, len(negs) + 1), negs, "--", color="red", label=f"negative: {len(negs)} ({len(negs) / len(mu):.0%})")
ax3.legend(fontsize=8)
ax3.set_xlabel("rank among eigenvalues of the same sign")
ax3.set_ylabel("|eigenvalue|")
ax3.set_title(f"untrained MLP, h1 → logits, N = {N_NET}")
course.save(fig, LESSON, "L_to_LMN")
course.done()

# %% [markdown]
# ## Exercises
#
# Edit the stubs in `lessons/exercises/05_from_L_to_LMN.py`, then check them from the repository root
# (or from `lessons/`) with `python -m lmn_edu.course check 05`: ✓ or ✗ per exercise. Stuck? Add
# `--hint` for a nudge, `--hint 2` and `--hint 3` for more of the idea (never the code). Easy to hard:
#
# 1. ★ (10 min) **Implement** `entropy_from_eigenvalues`: S_NL in bits (mind negative and zero eigenvalues).
# 2. ★ (5 min) **Implement** `lmn`: the LMN of a connectivity matrix.
# 3. ★★ (20 min) **Implement** `two_block_lmn`: the LMN of two blocks linked by ε, for blocks of millions of points (eigenvalues by hand).
# 4. **Predict, then run.** Blocks of sizes 10 and 10 give LMN 2. What do blocks of sizes 19 and 1 give: close to 2, or close to 1? Compute it with your `lmn`.
# 5. **Open question.** Eq (3) takes |μ|. What would go wrong if it kept only the positive eigenvalues, given that about 40% of a network's are negative?
