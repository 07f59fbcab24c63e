# %% [markdown]
# # Lesson 06 — LMN against the exact number of linear regions
#
# **Goals.** Count the exact linear regions of a 1-D ReLU network; compare them with its LMN and with the ideal soft count; see that LMN is not a region count.
#
# **Prerequisites.** Lesson 05; ReLU networks.
#
# **Time.** quick mode (`LMN_EDU_QUICK=1`): 8 s; full mode: 2 min (5 on a busy machine).
# Exercises at the end: stubs in `lessons/exercises/06_relu_regions.py`.
#
# A ReLU network is piecewise linear: it cuts its input space into regions, and on each
# region it is one affine map. The number of regions is a classical complexity measure.
# The paper motivates LMN with that count (its Figure 1): a measure of how many linear pieces a
# network with smooth activations (SiLU, GELU, tanh) uses, where "regions" no longer exist.
# Is LMN then a soft region count? This lesson measures it — and finds that it is not.
#
# On a 1-D input we can count ReLU regions *exactly*: along the x axis, a region ends
# where some unit's pre-activation crosses zero. We then compare three numbers:
#
# - **regions**: the exact count on the interval;
# - **ideal soft count**: the LMN of the "ideal" L with L_ij = 1 if points i and j lie in
#   the same region and 0 otherwise (lesson 05: this is 2^H of the fractions of points per
#   region, so regions holding few points count less);
# - **LMN**: the paper's LMN, from the network's outputs along lines.
#
# Then we swap ReLU for smooth activations with the *same weights*.

# %%
from lmn_edu import course
from lmn_edu.course import check, observe, pick

import numpy as np
from matplotlib.figure import Figure

import lmn_edu

LESSON = "06_relu_regions"
N_POINTS = pick(100, 400)
WIDTHS = pick((4, 8, 16), (4, 8, 16, 32, 64))
LO, HI = -3.0, 3.0
course.header("Lesson 06: LMN of ReLU networks and their exact linear regions",
               f"{N_POINTS} points instead of 400, widths {WIDTHS} instead of up to 64",
               f"{N_POINTS} points, widths {WIDTHS}; about 2 minutes of CPU time")

ACTIVATIONS = {
    "relu": lambda z: np.maximum(z, 0.0),
    "silu": lambda z: z * 0.5 * (1 + np.tanh(0.5 * z)),
    "gelu": lambda z: 0.5 * z * (1 + np.tanh(np.sqrt(2 / np.pi) * (z + 0.044715 * z ** 3))),   # tanh form
    "tanh": np.tanh,
}


def random_net(rng, widths):
    """Weights of an MLP R¹ → R⁴ with hidden layers of the given widths, a list of (W, b)."""
    sizes = (1, *widths, 4)
    return [(rng.normal(size=(a, b)) / np.sqrt(a), 0.5 * rng.normal(size=b)) for a, b in zip(sizes[:-1], sizes[1:])]


def apply(net, act, x):
    """x (M, 1) -> (M, 4): activation after every layer but the last."""
    for k, (W, b) in enumerate(net):
        x = x @ W + b
        if k < len(net) - 1:
            x = act(x)
    return x


# %% [markdown]
# ## Counting regions exactly
#
# On an interval where every unit's on/off pattern is fixed, each layer's output is an
# affine function of x, h(x) = x·A + c. So we go layer by layer: find where the next layer's
# pre-activations z(x) = x·(A W) + (c W + b) cross zero inside each interval, split the
# interval there, and switch off the units that are negative on each piece.

# %%
def relu_regions(net, lo, hi):
    """Exact linear regions of a ReLU net on [lo, hi]: the sorted region edges (R + 1,)."""
    pieces = [(lo, hi, np.ones((1, 1)), np.zeros(1))]       # (start, end, A, c): h = x·A + c
    for W, b in net[:-1]:
        new = []
        for s, e, A, c in pieces:
            zA, zc = (A @ W)[0], c @ W + b                    # z(x) = x·zA + zc, (width,)
            with np.errstate(divide="ignore", invalid="ignore"):
                roots = -zc / zA
            cuts = np.sort(roots[(roots > s) & (roots < e)])
            edges = np.concatenate([[s], cuts, [e]])
            for a, t in zip(edges[:-1], edges[1:]):
                on = ((a + t) / 2 * zA + zc) > 0             # the pattern inside this piece
                new.append((a, t, (zA * on)[None, :], zc * on))
        pieces = new
    return np.array([p[0] for p in pieces] + [hi])


def pattern_changes(net, x):
    """Region count by brute force: on/off patterns of all units on a fine grid x (M,)."""
    h, patterns = x[:, None], []
    for W, b in net[:-1]:
        z = h @ W + b
        patterns.append(z > 0)
        h = np.maximum(z, 0)
    P = np.concatenate(patterns, axis=1)                      # (M, total units)
    return 1 + int(np.any(P[1:] != P[:-1], axis=1).sum())


rng = np.random.default_rng(0)
nets = {w: random_net(rng, (w, w)) for w in WIDTHS}
for w, net in nets.items():
    edges = relu_regions(net, LO, HI)
    grid = pattern_changes(net, np.linspace(LO, HI, 200_001))
    print(f"width {w:3d} (two hidden layers): {len(edges) - 1} regions on [{LO:g}, {HI:g}]; fine-grid count {grid}")
    check(len(edges) - 1 == grid, f"width {w}: the exact count agrees with a brute-force count on a fine grid")

# %% [markdown]
# ## Inside one region, every line stays straight
#
# That is the paper's Figure 1: if x_i and x_j lie in the same region, the network is one
# affine map on the whole segment between them, so L_ij = 1 exactly. Across regions, L_ij is
# usually below 1 — but by how much depends on how sharply the slope changes.

# %%
X = np.linspace(LO, HI, N_POINTS)[:, None]                  # (N, 1) evenly spaced points
rows = []
for w, net in nets.items():
    edges = relu_regions(net, LO, HI)
    region = np.searchsorted(edges, X[:, 0], side="right").clip(1, len(edges) - 1) - 1   # (N,)
    same = region[:, None] == region[None, :]                                          # (N, N)
    L = lmn_edu.connectivity_matrix(lambda x: apply(net, ACTIVATIONS["relu"], x), X)
    check(np.allclose(L[same], 1), f"width {w}: L_ij = 1 for every pair in the same region")
    ideal = lmn_edu.linear_mapping_number(same.astype(float))
    frac = np.bincount(region) / len(region)
    frac = frac[frac > 0]
    check(np.isclose(ideal, 2 ** -(frac * np.log2(frac)).sum()), f"width {w}: ideal soft count = 2^H(points per region)")
    lmns = {name: lmn_edu.linear_mapping_number(lmn_edu.connectivity_matrix(lambda x, a=act: apply(net, a, x), X))
            for name, act in ACTIVATIONS.items()}
    across = L[~same]
    rows.append((w, len(edges) - 1, ideal, lmns, np.mean(across > 0.99) if across.size else np.nan))

print(f"\n{'width':>5s} {'regions':>8s} {'ideal':>6s} {'LMN relu':>9s} {'silu':>6s} {'gelu':>6s} {'tanh':>6s}  "
      f"pairs across regions with L_ij > 0.99")
for w, R, ideal, lmns, near1 in rows:
    print(f"{w:5d} {R:8d} {ideal:6.2f} {lmns['relu']:9.2f} {lmns['silu']:6.2f} {lmns['gelu']:6.2f} {lmns['tanh']:6.2f}  {near1:.0%}")
observe(all(r[3]["relu"] <= r[2] for r in rows),
                "LMN of the ReLU net is at most the ideal soft count of its regions in every row")
observe(all(a[3]["relu"] < b[3]["relu"] for a, b in zip(rows, rows[1:])),
                "LMN grows with the width (and the number of regions)")

# %% [markdown]
# What to take from the table: LMN is *not* the region count. Many kinks of a random
# network change the slope only a little, so lines across them stay nearly straight
# (r² close to 1) and those regions merge in the soft count. LMN answers "how many
# *distinctly different* linear maps does the function use on these points?".
#
# The opposite also happens. A zigzag (slopes +1, −1, +1, …) changes slope as much as
# possible at every kink. Between two points on different sides of a kink the curve is a
# "V", whose r² runs from 0 to 1 depending on where the kink sits on the line (lesson 04),
# so L is not block-diagonal but graded, and LMN comes out *larger* than the region count.

# %%
zig = []
for R in (1, 2, 3, 4, 6, 8):
    kinks = np.linspace(LO, HI, R + 1)[1:-1]                  # (R − 1,)
    signs = -2.0 * (-1.0) ** np.arange(R - 1)                # slope changes −2, +2, −2, …

    def zigzag(x, kinks=kinks, signs=signs):
        return x + np.maximum(x - kinks, 0) @ signs[:, None]   # (M, 1)

    zig.append((R, lmn_edu.linear_mapping_number(lmn_edu.connectivity_matrix(zigzag, X))))
print("zigzag with R equal pieces:", ", ".join(f"R={R}: LMN {v:.2f}" for R, v in zig))
check(np.isclose(zig[0][1], 1.0), "one piece (an affine map): LMN = 1")
observe(all(v > R for R, v in zig[1:]), "a zigzag's LMN exceeds its number of pieces")

# %% [markdown]
# ## From SiLU to ReLU
#
# silu_β(z) = silu(β z) / β tends to relu(z) as β → ∞ (at most 0.28/β apart). Does the LMN
# of the SiLU network tend to the ReLU network's? Watch the mean gap between the two
# connectivity matrices: it shrinks as β grows. The LMN itself need not move monotonically
# on the way — it is a nonlinear function of L. Keep in mind that r² ignores size
# (lesson 04): a tiny leftover curve scores by its shape, so L converges only once the
# smooth kinks are sharp on the scale of the spacing between points.

# %%
w = 8
net = nets[w]
L_relu = lmn_edu.connectivity_matrix(lambda x: apply(net, ACTIVATIONS["relu"], x), X)
lmn_relu = lmn_edu.linear_mapping_number(L_relu)
betas = pick((1, 4, 16, 256, 4096), (1, 2, 4, 8, 16, 64, 256, 1024, 4096, 65536))
sharp = []
for beta in betas:
    act = lambda z, b=beta: z * 0.5 * (1 + np.tanh(0.5 * b * z))  # silu(βz)/β
    L_b = lmn_edu.connectivity_matrix(lambda x: apply(net, act, x), X)
    sharp.append((beta, lmn_edu.linear_mapping_number(L_b), np.abs(L_b - L_relu).mean()))
print(f"width {w}: LMN relu = {lmn_relu:.2f}")
for beta, v, gap in sharp:
    print(f"  β = {beta:6d}: LMN silu_β = {v:.2f}, mean |L_silu − L_relu| = {gap:.4f}")
check(sharp[-1][2] < sharp[0][2], "the sharpest SiLU's L is closer to ReLU's L than the ordinary SiLU's")
observe(abs(sharp[-1][1] - lmn_relu) < 0.05 * lmn_relu, "the sharpest SiLU's LMN is within 5% of ReLU's")

# %%
fig = Figure(figsize=(13, 4), layout="constrained")
ax1, ax2, ax3 = fig.subplots(1, 3)
net = nets[WIDTHS[1]]
for name, act in ACTIVATIONS.items():
    ax1.plot(X[:, 0], apply(net, act, X)[:, 0], label=name)
for e in relu_regions(net, LO, HI)[1:-1]:
    ax1.axvline(e, color="gray", lw=0.3)
ax1.set_title(f"output 0, width-{WIDTHS[1]} net\n(gray: ReLU region edges)")
ax1.set_xlabel("input x")
ax1.set_ylabel("output 0")
ax1.legend(fontsize=8)
im = ax2.imshow(lmn_edu.connectivity_matrix(lambda x: apply(net, ACTIVATIONS["relu"], x), X), cmap="magma", vmin=0, vmax=1,
                extent=(LO, HI, HI, LO))
ax2.set_title("L of the ReLU net")
ax2.set_xlabel("x_j")
ax2.set_ylabel("x_i")
fig.colorbar(im, ax=ax2, label="L_ij")
ax3.plot([r[1] for r in rows], [r[3]["relu"] for r in rows], "o-", label="LMN relu")
ax3.plot([r[1] for r in rows], [r[2] for r in rows], "s--", label="ideal soft count")
ax3.plot([r[1] for r in rows], [r[1] for r in rows], ":", color="gray", label="regions")
ax3.set_xlabel("exact number of regions")
ax3.set_ylabel("count")
ax3.set_title("LMN is not the region count")
ax3.legend(fontsize=8)
course.save(fig, LESSON, "relu_regions")
course.done()

# %% [markdown]
# ## Exercises
#
# Edit the stubs in `lessons/exercises/06_relu_regions.py`, then check them from the repository root
# (or from `lessons/`) with `python -m lmn_edu.course check 06`: ✓ or ✗ per exercise. Stuck? Add
# `--hint` for a nudge, `--hint 2` and `--hint 3` for more of the idea (never the code). Easy to hard:
#
# 1. ★ (10 min) **Implement** `ideal_soft_count`: the LMN of the ideal same-region matrix, 2^H(fractions), for any region labels.
# 2. ★ (5 min) **Implement** `sharp_silu`: silu_β(z) = silu(βz)/β without overflow, for β up to 10⁶.
# 3. ★★ (15 min) **Implement** `relu_kinks`: where one ReLU layer on a 1-D input bends, strictly inside the interval, each position once.
# 4. ★★★ (30 min) **Implement** `relu_region_edges`: the exact region edges of a two-layer ReLU net on a 1-D input, as the lesson's `relu_regions` finds them.
# 5. **Predict, then run.** Double the width of the nets (`WIDTHS`). Will the number of regions double? Will the LMN? Run it and compare with your guess.
# 6. **Open question.** LMN counts "distinctly different" linear maps, weighted by points. Which is the better measure of a network's complexity for generalization, and why might the answer depend on the data?
