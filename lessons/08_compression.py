# %% [markdown]
# # Lesson 08 — compression: LMN and L2 against the test loss
#
# **Goals.** See that LMN, unlike the L2 norm, is blind to scale; measure how linearly the test loss depends on LMN and on L2 in the generalizing phase.
#
# **Prerequisites.** Lesson 07.
#
# **Time.** quick mode (`LMN_EDU_QUICK=1`): 5 s (reads the committed run); full mode: seconds after lesson 07 (else as 07).
# Exercises at the end: stubs in `lessons/exercises/08_compression.py`.
#
# A popular story for grokking (Omnigrok, Liu et al. 2022) is about the *size* of the
# weights: weight decay shrinks the L2 norm of the parameters until the network can no longer
# afford to memorize. The paper argues that LMN is a better measure of this compression:
#
# 1. LMN means something — a number of linear maps, i.e. information — while L2 depends on
#    arbitrary scales: a *linear* network has LMN = 1 whatever the size of its weights.
# 2. In the generalizing phase, LMN is *linearly* related to the test loss, while L2 is
#    related to it "in a complicated nonlinear way".
#
# We check point 1 exactly and measure point 2 on the addition run of lesson 07.

# %%
from lmn_edu import course
from lmn_edu.course import check, compare

import numpy as np
from matplotlib.figure import Figure

import lmn_edu
from lmn_edu.analysis import pearson, phase_steps, phase_window, reached

LESSON = "08_compression"
course.header("Lesson 08: compression, LMN and L2 against the test loss",
              "the committed full-size run of addition (results/paper/add-s0), as in lesson 07",
              "the full run of lesson 07 (reused if lesson 07 left it here; else it trains it: about 10 minutes of CPU time)")

# %% [markdown]
# ## 1. Size is not complexity
#
# Scale the weights of a network by c. L2 scales by c. For a linear map, LMN stays 1. For
# our MLP, scaling the last layer (W3, b3) scales the logits, and r² does not care about
# scale (lesson 04): the LMN from h1 is unchanged, while L2 changes.

# %%
rng = np.random.default_rng(0)
A = rng.normal(size=(8, 3))
X = rng.normal(size=(30, 8))
for c in (0.1, 1.0, 10.0):
    n = lmn_edu.linear_mapping_number(lmn_edu.connectivity_matrix(lambda x: x @ (c * A), X))
    print(f"linear map ×{c:>4}: L2 = {np.linalg.norm(c * A):7.2f}, LMN = {n:.6f}")
    check(np.isclose(n, 1.0), f"a linear map scaled by {c} has LMN = 1")

task = lmn_edu.make_task("add")
params = lmn_edu.init_params(rng, task.vocab_size, task.n_classes)
pts = task.inputs[:100]
base = lmn_edu.layer_lmn(params, pts)
scaled = {**params, "W3": 10 * params["W3"], "b3": 10 * params["b3"]}
print(f"MLP: L2 {lmn_edu.l2_norm(params):.2f} → {lmn_edu.l2_norm(scaled):.2f} when W3, b3 are ×10; "
      f"LMN(h1) {base:.4f} → {lmn_edu.layer_lmn(scaled, pts):.4f}")
check(np.isclose(base, lmn_edu.layer_lmn(scaled, pts), rtol=1e-9), "scaling the output layer leaves LMN unchanged")

# %% [markdown]
# ## 2. LMN, L2 and the test loss in the generalizing phase
#
# We take the rows of the run where LMN was measured, between memorization and
# generalization, and ask how well a straight line predicts the test loss from LMN, and from
# L2 (R² of a linear fit), and how well *any* increasing function could (Spearman's rank
# correlation). "Linear relation" means the first is high; "complicated nonlinear" means the
# rank correlation is high but the linear fit is poor.

# %%
rows = course.paper_run("add")[1] if course.quick() else course.run_history(course.add_run_config())[0]
memorized, generalized = phase_steps(rows)
phase = phase_window(rows, "lmn_h1")
end = generalized if generalized is not None else rows[-1]["step"]
print(f"generalizing phase: steps {memorized}–{end}; {len(phase)} rows with LMN in it")
test_loss = np.array([r["test_loss"] for r in phase])


def ranks(v):
    return np.argsort(np.argsort(v))


fits = {}
for key in ("lmn_h1", "l2"):
    x = np.array([r[key] for r in phase])
    r = pearson(x, test_loss)
    rho = pearson(ranks(x), ranks(test_loss))
    slope, intercept = np.polyfit(x, test_loss, 1)
    fits[key] = (r ** 2, rho, (slope, intercept))
    print(f"test loss against {key:6s}: linear fit R² = {r ** 2:.4f} (Pearson r = {r:+.4f}, slope {slope:+.3g}), "
          f"Spearman ρ = {rho:+.3f}")
r2_lmn, r2_l2 = fits["lmn_h1"][0], fits["l2"][0]
compare(r2_lmn > r2_l2 + 0.01,
        f"LMN is clearly more linearly related to the test loss than L2 is (R² {r2_lmn:.4f} vs {r2_l2:.4f}; "
        "'clearly': by more than 0.01)", evidence=reached(rows, "generalized") and len(phase) >= 10)

# %% [markdown]
# ## 3. LMN as information
#
# If the network were replaced by its LMN linear maps from h1 to the logits, each a
# 100 × 31 matrix plus 31 biases, this is how many numbers it would take — a rough
# "description length" that falls as the network compresses.

# %%
per_map = 100 * 31 + 31
first, last = phase[0], phase[-1]
print(f"step {first['step']}: LMN {first['lmn_h1']:.2f} ≈ {first['lmn_h1'] * per_map:,.0f} numbers; "
      f"step {last['step']}: LMN {last['lmn_h1']:.2f} ≈ {last['lmn_h1'] * per_map:,.0f} numbers")

# %%
fig = Figure(figsize=(11, 4), layout="constrained")
for ax, key, label in zip(fig.subplots(1, 2), ("lmn_h1", "l2"), ("LMN (h1 → logits)", "L2 norm of parameters")):
    x = np.array([r[key] for r in phase])
    sc = ax.scatter(x, test_loss, c=[r["step"] for r in phase], cmap="viridis", s=18)
    slope, intercept = fits[key][2]
    xs = np.linspace(x.min(), x.max(), 50)
    ax.plot(xs, intercept + slope * xs, color="gray", lw=1, label=f"linear fit, R² = {fits[key][0]:.3f}")
    ax.set_xlabel(label)
    ax.set_ylabel("test loss")
    ax.legend(fontsize=8)
fig.colorbar(sc, ax=fig.axes, label="step")
fig.suptitle("generalizing phase: test loss against LMN and against L2")
course.save(fig, LESSON, "test_loss_vs_lmn_l2")
course.done()

# %% [markdown]
# ## Exercises
#
# Edit the stubs in `lessons/exercises/08_compression.py`, then check them from the repository root
# (or from `lessons/`) with `python -m lmn_edu.course check 08`: ✓ or ✗ per exercise. Stuck? Add
# `--hint` for a nudge, `--hint 2` and `--hint 3` for more of the idea (never the code). Easy to hard:
#
# 1. ★ (5 min) **Implement** `linear_fit_r2`: R² of a straight-line fit.
# 2. ★★ (15 min) **Implement** `spearman`: the rank correlation, ties given their mean rank.
# 3. ★★★ (25 min) **Implement** `curve_share`: how much of a line's misfit a parabola removes — accurate for x near 10⁴.
# 4. **Predict, then run.** Restrict the fit to the second half of the generalizing phase. Will R² for LMN and for L2 stay close to each other? Use your two functions on that window.
# 5. **Open question.** On this run LMN and L2 fit the test loss almost equally well (R² 0.98 both). What run, or what measurement, could tell the two stories apart?
