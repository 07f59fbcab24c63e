# %% [markdown]
# # Lesson 04 — linear connectivity along a line
#
# **Goals.** Compute the linear connectivity L_ij of eq (1)–(2): r² along a line, averaged over outputs; know what r² does and does not measure (it ignores scale).
#
# **Prerequisites.** Lesson 02; Pearson correlation.
#
# **Time.** quick mode (`LMN_EDU_QUICK=1`): 3 s; full mode: 3 s.
# Exercises at the end: stubs in `lessons/exercises/04_linear_connectivity.py`.
#
# How linear is a function f *between* two points x_i and x_j? The paper's recipe:
#
# 1. walk the straight line between them, x(λ) = x_i + λ (x_j − x_i), at 21 values
#    λ = 0, 0.05, …, 1 (eq 1);
# 2. look at each output coordinate y_k(λ) = f(x(λ))_k as a curve in λ and measure how well
#    a straight line fits it: r², the squared Pearson correlation of y_k with λ;
# 3. average over the output coordinates: that is the *linear connectivity* L_ij (eq 2).
#
# r² = 1 for any straight line (rising or falling); r² = 0 for a curve symmetric about the
# middle, like a parabola; a kink somewhere in between gives something in between.
# A constant coordinate is a (flat) straight line: the package counts it as r² = 1.

# %%
from lmn_edu import course
from lmn_edu.course import check

import numpy as np
from matplotlib.figure import Figure

import lmn_edu

LESSON = "04_linear_connectivity"
course.header("Lesson 04: linear connectivity along a line", "nothing to shrink (no training)",
               "a few seconds")

lam = lmn_edu.lambdas(21)
print("λ grid:", np.round(lam, 2))
check(len(lam) == 21 and lam[0] == 0 and lam[-1] == 1 and np.allclose(np.diff(lam), 0.05),
      "21 uniform points from 0 to 1, step 0.05 (the paper's footnote 2)")

# %% [markdown]
# ## r² of some curves
#
# `lmn_edu.r_squared(y, lam)` takes curves shaped (pairs, λ, output dims) and returns one
# r² per pair and dimension.

# %%
curves = {
    "affine 3λ − 1": 3 * lam - 1,
    "falling −2λ": -2 * lam,
    "constant 7": np.full_like(lam, 7.0),
    "parabola (λ − ½)²": (lam - 0.5) ** 2,
    "|λ − ½| (kink in the middle)": np.abs(lam - 0.5),
    "max(0, λ − 0.7) (kink at 0.7)": np.maximum(0, lam - 0.7),
    "max(0, λ − 0.2) (kink at 0.2)": np.maximum(0, lam - 0.2),
    "eˡ (smooth, convex)": np.exp(lam),
    "sin 2πλ": np.sin(2 * np.pi * lam),
}
y = np.stack(list(curves.values()))[:, :, None]        # (9 curves, 21, 1 output dim)
r2 = lmn_edu.r_squared(y, lam)[:, 0]                   # (9,)
for (name, _), v in zip(curves.items(), r2):
    print(f"  r² = {v:.3f}   {name}")
r2 = dict(zip(curves, r2))
check(np.isclose(r2["affine 3λ − 1"], 1) and np.isclose(r2["falling −2λ"], 1), "a straight line has r² = 1, rising or falling")
check(r2["constant 7"] == 1.0, "a constant curve counts as a straight line: r² = 1")
check(r2["parabola (λ − ½)²"] < 1e-12 and r2["|λ − ½| (kink in the middle)"] < 1e-12,
      "a curve symmetric about λ = ½ (parabola, kink in the middle) has r² = 0")
check(r2["max(0, λ − 0.2) (kink at 0.2)"] > r2["max(0, λ − 0.7) (kink at 0.7)"],
      "a kink with 80% of the curve on one sloped line scores higher than one with 70% flat")

# %% [markdown]
# The last check deserves a second look: with the kink at 0.2, 80% of the curve is one
# straight sloped segment, so a single line fits well; with the kink at 0.7, 70% is *flat*
# and the fit is worse. r² measures "how much of the variation a single straight line
# explains" — a soft notion of linearity, not a yes/no test. Note also that a smooth curve
# like eˡ scores high (≈ 0.98): over a short stretch, smooth functions look linear.
# And r² does not care about size: multiply a curve by 10⁻⁶ and its r² is unchanged.

# %% [markdown]
# ## L_ij for a function of many variables
#
# `lmn_edu.connectivity_matrix(f, X)` does steps 1–3 for every pair of rows of X. Here f
# maps R³ to R² and X holds 5 points.

# %%
rng = np.random.default_rng(0)
X = rng.normal(size=(5, 3))                            # (5 points, 3 input dims)
A, b = rng.normal(size=(3, 2)), rng.normal(size=2)


def affine(x):
    return x @ A + b                                   # (M, 2)


def square(x):
    return (x @ A) ** 2                                # (M, 2): a parabola along every line


def relu(x):
    return np.maximum(x @ A, 0)                        # (M, 2): kinks where x @ A changes sign


for name, f in (("affine", affine), ("square", square), ("relu", relu)):
    L = lmn_edu.connectivity_matrix(f, X)
    off = L[~np.eye(5, dtype=bool)]
    print(f"{name:6s}: off-diagonal L_ij from {off.min():.3f} to {off.max():.3f}")
    check(np.allclose(L, L.T) and np.all(np.diag(L) == 1) and np.all((L >= 0) & (L <= 1)),
          f"{name}: L is symmetric, L_ii = 1, 0 ≤ L_ij ≤ 1")
    if name == "affine":
        check(np.allclose(L, 1), "an affine map keeps every line straight: L_ij = 1 for all pairs")

# %% [markdown]
# ## One kink, moved along the line
#
# f(x) = max(0, x) on a segment of length 1 from x_i = −λ* to x_j = 1 − λ*: the kink sits at
# λ = λ*. Sliding it from one end to the other traces out how r² depends on where the
# nonlinearity is met. With λ* = 0 or 1 there is no kink inside (a sloped or a flat line):
# r² = 1. In between, the flat part grows and the sloped part shrinks; just before λ* = 1
# the curve is flat with a tiny rise at the very end, which no straight line fits — and
# since r² ignores size, that tiny rise counts fully: r² drops low, then jumps back to 1.

# %%
kinks = np.linspace(0.0, 1.0, 41)
r2_kink = np.array([
    lmn_edu.connectivity_matrix(lambda x: np.maximum(x, 0), np.array([[-k], [1 - k]]))[0, 1]
    for k in kinks])                                   # kink at λ = k on the line from −k to 1 − k
print("kink position λ* → r²:", ", ".join(f"{k:.2f}→{v:.2f}" for k, v in zip(kinks[::8], r2_kink[::8])))
check(np.isclose(r2_kink[0], 1) and np.isclose(r2_kink[-1], 1), "no kink inside the line: r² = 1")
print(f"lowest r²: {r2_kink.min():.3f} with the kink at λ* = {kinks[r2_kink.argmin()]:.2f}")
check(0 < r2_kink.min() < 0.5 and kinks[r2_kink.argmin()] > 0.5,
      "one kink lowers r², most when the sloped part is a short stretch at the end")
check(np.isclose(lmn_edu.r_squared(1e-6 * y, lam)[:, 0], list(r2.values())).all(), "r² is unchanged when a curve is scaled by 10⁻⁶")

# %%
fig = Figure(figsize=(12, 4), layout="constrained")
ax1, ax2 = fig.subplots(1, 2)
for (name, c) in curves.items():
    ax1.plot(lam, (c - c.min()) / (np.ptp(c) or 1), ".-", ms=3, label=f"{name}: r²={r2[name]:.2f}")
ax1.set_xlabel("λ")
ax1.set_ylabel("y(λ), rescaled to [0, 1]")
ax1.legend(fontsize=7)
ax2.plot(kinks, r2_kink, ".-")
ax2.set_xlabel("position λ* of the ReLU kink on the line")
ax2.set_ylabel("r²")
ax2.set_title("one kink: r² depends on where it is")
course.save(fig, LESSON, "r_squared")
course.done()

# %% [markdown]
# ## Exercises
#
# Edit the stubs in `lessons/exercises/04_linear_connectivity.py`, then check them from the repository root
# (or from `lessons/`) with `python -m lmn_edu.course check 04`: ✓ or ✗ per exercise. Stuck? Add
# `--hint` for a nudge, `--hint 2` and `--hint 3` for more of the idea (never the code). Easy to hard:
#
# 1. ★★ (15 min) **Implement** `r_squared_line`: r² of one curve against λ, with the flat-line rule.
# 2. ★★ (15 min) **Implement** `connectivity_pair`: L_ij of one pair of points, for any `n_lambda`.
# 3. ★★★ (30 min) **Implement** `connectivity_matrix`: the whole matrix L: symmetric, L_ii = 1, equal points linear by definition (f may be noisy).
# 4. **Predict, then run.** For f(x) = x² on the line from −1 to 1 + s, what is L_ij at s = 0? Does it rise or fall as s grows? Use your `connectivity_pair` with s = 0, 0.5, 2.
# 5. **Open question.** r² ignores the size of a bend (lesson 04's last check). Is that a good property for measuring the complexity of a network? Think of a tiny wiggle on a big straight line.
