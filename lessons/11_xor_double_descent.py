# %% [markdown]
# # Lesson 11 — XOR's double descent
#
# **Goals.** Follow LMN(h1) of XOR after generalization: its minimum, its rise and second fall; compare the turning values with the paper's 15 and 20; relate them to XOR's bit cases.
#
# **Prerequisites.** Lessons 05, 07.
#
# **Time.** quick mode (`LMN_EDU_QUICK=1`): 5 s (reads the committed run); full mode: about 7 min (20 on a busy machine).
# Exercises at the end: stubs in `lessons/exercises/11_xor_double_descent.py`.
#
# On bitwise XOR of two 5-bit numbers the paper reports something new: after the network
# generalizes, its LMN does not simply level off. It *rises* for a while, then falls again —
# a double-descent shape — while the L2 norm shows nothing of the kind.
#
# The paper's explanation is about bits. XOR acts on each of the 5 bits separately, and
# each bit sees one of four pairs (0,0), (0,1), (1,0), (1,1). A network can treat all four
# separately (5 × 4 = 20 linear pieces) or use the symmetry (0,1) ~ (1,0) and get by with
# three (5 × 3 = 15). It reports that the two turning points of the LMN are 15 and 20.
# Here we train XOR, find the turning points of our LMN curve, and compare. Keep lesson 05
# in mind: LMN values depend on how many points L is built on, so compare the *shape* of
# the curve first and its numbers second.

# %%
from lmn_edu import course
from lmn_edu.course import check, compare, pick

import numpy as np
from matplotlib.figure import Figure

import lmn_edu
from lmn_edu.analysis import column, phase_steps, reached, turning_points
from lmn_edu.plots import shade_phases

LESSON = "11_xor_double_descent"
config = lmn_edu.RunConfig(task="xor", eval_every=50, lmn_every=250,
                           out=str(course.output_root() / "runs")).validated()
course.header(
    "Lesson 11: XOR's double descent",
    "no training: the committed full-size XOR run (results/paper/xor-s0: 20 000 steps, LMN on the 819 "
    "training pairs, float64)",
    "20 000 steps, LMN every 250 steps on the 819 training pairs; about 7 minutes of CPU time, 20 on a busy 2-core machine")

# %%
task = lmn_edu.make_task("xor")
bits = (task.inputs[:, :, None] >> np.arange(5)) & 1          # (1024, 2, 5): the bits of a and b
check(np.array_equal(np.bitwise_xor(bits[:, 0], bits[:, 1]), (task.labels[:, None] >> np.arange(5)) & 1),
      "XOR acts bit by bit: each of the 5 output bits depends only on the same bit of a and b")

if course.quick():
    saved, rows = course.paper_run("xor")
    label = f"xor, the committed run ({saved['backend']} {saved['dtype']}), seed {saved['seed']}"
else:
    rows, label = course.run_history(config)[0], f"xor, {config.backend} {config.dtype}, seed {config.seed}"
memorized, generalized = phase_steps(rows)
print(f"memorized (train accuracy 1.0) at step {memorized}; generalized (test accuracy 1.0) at step {generalized}")
check(memorized is not None, "the network memorizes XOR's training pairs")

# %% [markdown]
# ## The LMN curve and its turning points
#
# After memorization we look for the first local minimum of LMN(h1) and the first local
# maximum after it (`lmn_edu.analysis.turning_points`, which ignores wiggles of less than 0.5).

# %%
steps, lmn_h1 = map(np.array, column(rows, "lmn_h1"))
step_l2, l2 = map(np.array, column(rows, "l2"))
print(f"{'step':>6s} {'LMN h1':>7s} {'L2':>7s} {'test acc':>8s}")
by_step = {r["step"]: r for r in rows}
shown = steps if len(steps) <= 16 else steps[np.unique(np.geomspace(1, len(steps), 16).astype(int) - 1)]
for s in shown:
    print(f"{s:6d} {by_step[s]['lmn_h1']:7.2f} {by_step[s]['l2']:7.2f} {by_step[s]['test_acc']:8.3f}")

turns = turning_points(steps, lmn_h1, after=memorized)
for kind, s, v in turns:
    print(f"turning point: local {kind} of LMN = {v:.2f} at step {s}")
if len(turns) < 2:
    compare(False, "LMN turns down, then up again after memorization", evidence=reached(rows, "generalized"),
            missing="the run did not generalize")
    if reached(rows, "generalized"):
        print("fewer than two turning points in this run")
else:
    (_, s_min, v_min), (_, s_max, v_max) = turns
    compare(abs(v_min - 15) <= 2 and abs(v_max - 20) <= 2,
            f"the turning points are near the paper's 15 and 20 (ours: {v_min:.1f} and {v_max:.1f})")
    compare(generalized is not None and s_max > generalized, "LMN rises again after generalization")
    second = 1 - lmn_h1[-1] / v_max
    at_memorized = lmn_h1[int(np.argmax(steps >= memorized))]      # LMN when the network memorized
    first_fall = (at_memorized - v_min) / at_memorized
    compare(second > 0.5 * first_fall and second > 0.1,
            f"…and descends a second time: from {v_max:.2f} (step {s_max}) to {lmn_h1[-1]:.2f} at step {steps[-1]}, "
            f"{second:.0%} ('descends': by more than 10% and by more than half the first descent, {first_fall:.0%}, "
            "so that a dip is not a descent)")
    seg = l2[step_l2 >= s_min]                                   # L2 from the LMN minimum on
    rebound = np.max(seg - np.minimum.accumulate(seg))           # largest rise above its lowest value so far
    fall = seg[0] - seg.min()
    compare(rebound < 0.05 * fall, f"the L2 norm shows no such rise: after the LMN minimum it falls by {fall:.2f} "
            f"and rebounds by at most {rebound:.2f}, while LMN rebounds by {v_max - v_min:.2f}")
first = int(np.argmax(steps >= memorized))                     # first LMN row after memorization
check(lmn_h1[first] > lmn_h1[0], f"LMN rises while the network memorizes (step 0: {lmn_h1[0]:.2f}, "
      f"step {steps[first]}: {lmn_h1[first]:.2f})")

# %%
fig = Figure(figsize=(12, 4), layout="constrained")
ax1, ax2 = fig.subplots(1, 2)
for ax, (s, v), ylabel in ((ax1, (steps, lmn_h1), "LMN (h1 → logits)"), (ax2, (step_l2, l2), "L2 norm")):
    shade_phases(ax, rows)
    ax.plot(np.maximum(s, 1), v, ".-" if ax is ax1 else "-", ms=3)
    ax.set_xscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
for kind, s, v in turns:
    ax1.annotate(f"{kind} {v:.1f}", (s, v), textcoords="offset points", xytext=(0, 8), ha="center", fontsize=8)
ax1.legend(fontsize=8)
fig.suptitle(label)
course.save(fig, LESSON, "xor_lmn_l2")
course.done()

# %% [markdown]
# ## Exercises
#
# Edit the stubs in `lessons/exercises/11_xor_double_descent.py`, then check them from the repository root
# (or from `lessons/`) with `python -m lmn_edu.course check 11`: ✓ or ✗ per exercise. Stuck? Add
# `--hint` for a nudge, `--hint 2` and `--hint 3` for more of the idea (never the code). Easy to hard:
#
# 1. ★ (5 min) **Implement** `bit_cases`: which of the four cases (0,0), (0,1), (1,0), (1,1) bit k is in.
# 2. ★★ (15 min) **Implement** `local_minima`: the interior local minima of a curve, a flat bottom counted once at its middle.
# 3. ★★★ (35 min) **Implement** `turning_points`: a turning-point detector with prominence: the first minimum and the maximum after it.
# 4. **Predict, then run.** Do seeds 1 and 2 (`course.paper_run("xor", seed=1)`) show the same rise after generalization? At the same steps? Use `lmn_edu.analysis.turning_points`.
# 5. **Open question.** The paper reads 15 and 20 as 5 × 3 and 5 × 4 linear pieces. Our values are about 20 and 34 on 819 points. Since LMN depends on N (lesson 05), can any count of pieces be read off an LMN value?
