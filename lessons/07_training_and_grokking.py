# %% [markdown]
# # Lesson 07 — training and grokking
#
# **Goals.** Run (or read) the paper's addition run through `lmn_edu.train.train`; find the memorizing, generalizing and finalizing phases; watch LMN(h1) fall while generalizing.
#
# **Prerequisites.** Lessons 02–05.
#
# **Time.** quick mode (`LMN_EDU_QUICK=1`): 5 s (reads the committed run); full mode: about 10 min of CPU time (25 on a busy machine).
# Exercises at the end: stubs in `lessons/exercises/07_training_and_grokking.py`.
#
# *Grokking* is generalization long after memorization: the network first fits its
# training pairs perfectly while still failing on the test pairs, and only much later —
# with no change to the data or the optimizer — starts answering the test pairs correctly.
#
# The paper splits a run into three phases:
#
# - **memorizing**: until train accuracy reaches 100%;
# - **generalizing**: from then until test accuracy reaches 100%;
# - **finalizing**: the rest.
#
# Its claim: the linear mapping number of the first hidden layer (LMN from h1 to the
# logits) *falls* during the generalizing phase — the network compresses while it seems to
# be doing nothing. Here we train the paper's setting on addition mod 31 with
# `lmn_edu.train.train`, the same loop as the command line
# `python -m lmn_edu.run --task add --lmn-layers emb h1 h2`, and read the phases off its history.
# Quick mode trains nothing: it reads the committed full-size run of the same setting
# (`lmn_edu.course.paper_run("add")`, from `results/paper`), so the whole story is visible in seconds.

# %%
from lmn_edu import course
from lmn_edu.course import check, compare

import numpy as np

from lmn_edu.analysis import LEVEL_FRACTION, LEVEL_WINDOW, column, levels_off, phase_steps, phase_window, reached
from lmn_edu.config import RunConfig
from lmn_edu.plots import fig2

LESSON = "07_training_and_grokking"
course.header(
    "Lesson 07: training and grokking",
    "no training: we read the committed full-size run (results/paper/add-s0: 20 000 steps, LMN of "
    "emb, h1, h2 on the 768 training pairs, float64); full mode trains the same setting here",
    "the paper's run: 20 000 full-batch AdamW steps, LMN of emb, h1, h2 at 20 log-spaced steps up to 500, then every 500, on the 768 "
    "training pairs; about 10 minutes of CPU time, 25 on a busy 2-core machine (lessons 08 and 09 then reuse it)")
if course.quick():
    saved, rows = course.paper_run("add", seed=0)
    config = RunConfig.from_dict(saved)
    print("the committed run (trained with the torch backend in float64; the NumPy backend follows the "
          "same trajectory to rounding, lesson 12)")
else:
    config = course.add_run_config().validated()
for key in ("task", "steps", "lr", "weight_decay", "train_frac", "seed", "lmn_every", "lmn_points", "lmn_layers", "dtype"):
    print(f"  {key:12s} {getattr(config, key)}")

# %%
if not course.quick():
    rows, _ = course.run_history(config)
print(f"{len(rows)} rows in the history (one per evaluation); columns: {', '.join(rows[0])}")
check(rows[0]["step"] == 0 and rows[-1]["step"] == config.steps, "the history runs from step 0 to the last step")
check(all(np.isfinite(r["train_loss"]) for r in rows), "the loss stayed finite")

# %% [markdown]
# ## The run, row by row
#
# A few rows of the history: losses, accuracies, the L2 norm of all parameters and the
# LMN from h1 (measured less often than the rest, so blank in between).

# %%
lmn_rows = [r for r in rows if r.get("lmn_h1") is not None]
show = lmn_rows if len(lmn_rows) <= 12 else lmn_rows[:: max(1, len(lmn_rows) // 12)] + [lmn_rows[-1]]
print(f"{'step':>6s} {'train loss':>10s} {'test loss':>10s} {'train acc':>9s} {'test acc':>8s} {'L2':>7s} {'LMN h1':>7s}")
for r in show:
    print(f"{r['step']:6d} {r['train_loss']:10.2e} {r['test_loss']:10.2e} {r['train_acc']:9.3f} {r['test_acc']:8.3f} "
          f"{r['l2']:7.2f} {r['lmn_h1']:7.2f}")

# %% [markdown]
# ## The three phases

# %%
memorized, generalized = phase_steps(rows)
print(f"train accuracy first reaches 1.0 at step {memorized} (evaluated every {config.eval_every} steps)")
print(f"test accuracy first reaches 1.0 at step {generalized}" if generalized is not None
      else f"test accuracy never reaches 1.0 within these {config.steps} steps")
check(memorized is not None, "the network memorizes its training pairs (train accuracy 1.0)")
best_test_at_memorized = max(r["test_acc"] for r in rows if r["step"] <= memorized)
print(f"test accuracy when memorized: {best_test_at_memorized:.3f}  (chance: {1 / 31:.3f})")
check(best_test_at_memorized < 0.2, "at memorization the test pairs are still answered (almost) at chance: no generalization yet")
if generalized is not None:
    print(f"grokking delay: generalization came {generalized / memorized:.0f}× later than memorization")
    check(generalized > 10 * memorized, "generalization comes long after memorization: grokking")

# %% [markdown]
# ## Does LMN fall during the generalizing phase?
#
# Follow the LMN from h1 through the generalizing phase (from memorization to the step
# where test accuracy reaches 1, or to the end of the run if that comes first): where does
# it peak, and how far has it fallen by the end of the phase? This is the paper's claim,
# so we report whether this run agrees rather than assert it.
#
# The paper also says LMN "levels off" after grokking. A curve that still falls is not level,
# but no curve is exactly flat either, so the word needs a criterion, and the lesson uses the
# same one as the reproduction report (`lmn_edu.analysis.levels_off`): fit a straight line to
# LMN over the generalizing phase and another over the 5 000 steps after generalization; LMN
# *levels off* when the later slope is at most a fifth of the earlier one — it then changes at
# least five times more slowly than while the network generalized.

# %%
window = phase_window(rows, "lmn_h1")                          # generalizing phase, LMN measured
end = generalized if generalized is not None else rows[-1]["step"]
v = np.array([r["lmn_h1"] for r in window])
peak_row, end_row = window[int(v.argmax())], window[-1]
steps, lmn_h1 = map(np.array, column(rows, "lmn_h1"))
print(f"LMN(h1) at step 0: {lmn_h1[0]:.2f}; in the generalizing phase (steps {memorized}–{end}) it peaks at "
      f"{peak_row['lmn_h1']:.2f} (step {peak_row['step']}) and is {end_row['lmn_h1']:.2f} at step {end_row['step']}; "
      f"final {lmn_h1[-1]:.2f}")
fall = 1 - end_row["lmn_h1"] / peak_row["lmn_h1"]
compare(fall > 0.1, f"LMN(h1) falls during the generalizing phase: by {fall:.0%} from its peak ('falls': by more than 10%)",
        evidence=reached(rows, "generalized"))
level = levels_off(steps, lmn_h1, after_step=end, before_start=memorized)
finale = lmn_h1[steps >= end]
if level["levels_off"] is not None:
    print(f"slope of LMN(h1) per 1 000 steps: {level['rate_before']:+.2f} in the generalizing phase, "
          f"{level['rate_after']:+.2f} over the {LEVEL_WINDOW} steps after it (ratio {level['ratio']:.2f}); "
          f"from generalization to the last step LMN still changes by {finale[-1] / finale[0] - 1:+.0%}")
compare(level["levels_off"], f"LMN levels off after generalization ('levels off': the slope after generalization "
        f"is at most {LEVEL_FRACTION:g} × the slope before; here {abs(level['ratio'] or 0):.2f} ×)",
        evidence=reached(rows, "generalized") and level["levels_off"] is not None)

# %%
path = course.figure_dir(LESSON) / "fig2.png"
fig2(rows, path, title=f"add, {config.backend} {config.dtype}, seed {config.seed}")
print("the paper's Fig 2, top row: accuracy, LMN, L2 against step")
course.show(path)
course.done()

# %% [markdown]
# ## Exercises
#
# Edit the stubs in `lessons/exercises/07_training_and_grokking.py`, then check them from the repository root
# (or from `lessons/`) with `python -m lmn_edu.course check 07`: ✓ or ✗ per exercise. Stuck? Add
# `--hint` for a nudge, `--hint 2` and `--hint 3` for more of the idea (never the code). Easy to hard:
#
# 1. ★ (10 min) **Implement** `phase_boundaries`: (memorization step, generalization step): the first time each accuracy reaches 1, None where never.
# 2. ★★ (10 min) **Implement** `generalizing_window`: the rows of the generalizing phase where a column was measured.
# 3. ★★★ (25 min) **Implement** `settled_step`: the step where a noisy accuracy settles above a threshold for `patience` evaluations.
# 4. **Predict, then run.** Load the seed-1 and seed-2 runs (`course.paper_run("add", seed=1)`). Will memorization and generalization happen at the same steps as for seed 0? Within 10%? Use your `phase_boundaries`.
# 5. **Open question.** LMN(h1) *rises* while the network memorizes (step 0 to 350). Why would memorizing need more linear pieces?
