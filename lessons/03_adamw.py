# %% [markdown]
# # Lesson 03 — AdamW from scratch
#
# **Goals.** Write one AdamW step; see why decoupled weight decay differs from Adam + L2; the first step has size η whatever the gradient's scale.
#
# **Prerequisites.** Lesson 02; gradient descent.
#
# **Time.** about 5 s of CPU time, in quick mode (`LMN_EDU_QUICK=1`) and full mode alike (the same work).
# Exercises at the end: stubs in `lessons/exercises/03_adamw.py`.
#
# The paper trains with AdamW (learning rate 1e-3, weight decay 0.2). Weight decay is what
# drives grokking here: once the training set is memorized, the loss gradient is tiny and
# the decay keeps shrinking the weights, pushing the network towards a simpler solution.
#
# AdamW (Loshchilov & Hutter) is Adam with *decoupled* weight decay. With g the gradient,
# η the learning rate and λ the decay, one step is
#
#     θ ← θ (1 − η λ)                          decay: shrink every parameter by the same factor
#     m ← β₁ m + (1 − β₁) g,  v ← β₂ v + (1 − β₂) g²     running moments of the gradient
#     θ ← θ − η m̂ / (√v̂ + ε),  m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ)   bias-corrected Adam step
#
# "Decoupled" means the decay is *not* added to the gradient (that would be "Adam with L2"):
# Adam divides the gradient by its own size, which would also divide the decay away.
# `lmn_edu.AdamW` is a pure `init` / `step` pair: it returns new arrays and changes nothing.

# %%
from lmn_edu import course
from lmn_edu.course import check, pick

import numpy as np
from autograd import grad
from matplotlib.figure import Figure

import lmn_edu

LESSON = "03_adamw"
STEPS = pick(200, 2000)
course.header("Lesson 03: AdamW from scratch", f"{STEPS} steps in the decay demo instead of 2000",
               f"{STEPS} steps in the decay demo; a few seconds")

# %% [markdown]
# ## 1. With no gradient, AdamW shrinks every parameter geometrically
#
# Give the optimizer a zero gradient: the Adam part does nothing (m = v = 0), and each
# parameter is multiplied by (1 − ηλ) per step, whatever its size.

# %%
opt = lmn_edu.AdamW(lr=1e-3, weight_decay=0.2)
theta0 = {"w": np.array([0.01, 1.0, 100.0])}
zero = {"w": np.zeros(3)}
theta, state = theta0, opt.init(theta0)
for _ in range(STEPS):
    theta, state = opt.step(theta, zero, state)
expected = theta0["w"] * (1 - 1e-3 * 0.2) ** STEPS
print(f"after {STEPS} zero-gradient steps: {theta['w']}, each × {(1 - 2e-4) ** STEPS:.4f}")
check(np.allclose(theta["w"], expected, rtol=1e-12), f"AdamW: θ_t = θ_0 (1 − ηλ)^t exactly (t = {STEPS})")

# %% [markdown]
# ## 2. "Adam with L2" is not the same
#
# Adding λθ to the gradient and running plain Adam (weight_decay=0) normalises the decay
# term by its own size: every parameter moves by about η per step, whatever its size.
# Small weights are wiped out, large ones hardly shrink.

# %%
adam = lmn_edu.AdamW(lr=1e-3, weight_decay=0.0)
theta_l2, state = theta0, adam.init(theta0)
for _ in range(STEPS):
    theta_l2, state = adam.step(theta_l2, {"w": 0.2 * theta_l2["w"]}, state)
print(f"{'θ₀':>8s} {'AdamW':>10s} {'Adam+L2':>10s}")
for a, b, c in zip(theta0["w"], theta["w"], theta_l2["w"]):
    print(f"{a:8.2f} {b:10.5f} {c:10.5f}")
shrink_w = theta["w"] / theta0["w"]
shrink_l2 = theta_l2["w"] / theta0["w"]
check(np.ptp(shrink_w) < 1e-12 and np.ptp(shrink_l2) > 0.5,
      "decoupled decay shrinks all parameters by the same factor; Adam + L2 does not")

# %% [markdown]
# ## 3. The first step has size η, whatever the gradient's scale
#
# At t = 1 the bias corrections make m̂ = g and v̂ = g², so the Adam step is η·g/(|g| + ε)
# ≈ η·sign(g). Multiply the loss by 1000 and the step does not change: Adam is invariant
# to the scale of the loss, except for gradients as small as ε.

# %%
rng = np.random.default_rng(0)
task = lmn_edu.make_task("add")
params = lmn_edu.init_params(rng, task.vocab_size, task.n_classes)
batch = rng.choice(len(task), 128, replace=False)
x, y = task.inputs[batch], task.labels[batch]
g = grad(lmn_edu.loss)(params, x, y)
adam = lmn_edu.AdamW(lr=1e-3, weight_decay=0.0)
p1, _ = adam.step(params, g, adam.init(params))
p1k, _ = adam.step(params, {k: 1000 * v for k, v in g.items()}, adam.init(params))
moved = np.concatenate([np.abs(p1[k] - params[k]).ravel()[g[k].ravel() != 0] for k in params])
print(f"first-step sizes |Δθ| (entries with a gradient): min {moved.min():.2e}, median {np.median(moved):.2e}, "
      f"max {moved.max():.2e}; η = 1e-3")
check(np.allclose(np.median(moved), 1e-3, rtol=1e-2), "the typical first-step size is η")
big = [np.abs(g[k]) > 1e-4 for k in params]          # |g| ≫ ε = 1e-8: ε hardly matters there
gap = max(np.abs(p1[k] - p1k[k])[m].max() for k, m in zip(params, big))
print(f"largest step change when the gradient is scaled by 1000 (entries with |g| > 1e-4): {gap:.1e}")
check(gap < 1e-3 * 1e-3, "scaling the gradient by 1000 leaves the step unchanged (where |g| ≫ ε)")

# %% [markdown]
# ## 4. The step is pure
#
# `opt.step(params, grads, state)` returns new dicts; the ones passed in are untouched, so
# you can keep old parameters around (later lessons do, to look back at step 200).

# %%
before = {k: v.copy() for k, v in params.items()}
opt = lmn_edu.AdamW()
state0 = opt.init(params)
new, state1 = opt.step(params, g, state0)
check(all(np.array_equal(before[k], params[k]) for k in params) and state0["t"] == 0 and state1["t"] == 1,
      "step() changes neither the params nor the state passed in")

# %% [markdown]
# ## 5. Against torch.optim.AdamW
#
# If PyTorch is installed we run both optimizers for a few steps on the MLP, feeding each
# the gradient of its own current parameters (computed by autograd), in float64.

# %%
try:
    import torch
except ImportError:
    torch = None
    print("PyTorch is not installed: skipping the comparison with torch.optim.AdamW")

if torch is not None:
    n_steps = 20
    loss_grad = grad(lmn_edu.loss)
    ours, st = params, lmn_edu.AdamW(lr=1e-3, weight_decay=0.2).init(params)
    opt = lmn_edu.AdamW(lr=1e-3, weight_decay=0.2)
    tp = {k: torch.tensor(v, dtype=torch.float64) for k, v in params.items()}
    topt = torch.optim.AdamW(list(tp.values()), lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.2)
    for _ in range(n_steps):
        ours, st = opt.step(ours, loss_grad(ours, x, y), st)
        tg = loss_grad({k: v.numpy() for k, v in tp.items()}, x, y)
        for k, v in tp.items():
            v.grad = torch.from_numpy(tg[k])
        topt.step()
    diff = max(np.abs(ours[k] - tp[k].numpy()).max() for k in params)
    print(f"torch {torch.__version__}: largest |ours − torch| after {n_steps} steps: {diff:.1e}")
    check(diff < 1e-12, "lmn_edu.AdamW matches torch.optim.AdamW to rounding")

# %%
fig = Figure(figsize=(12, 4.2), layout="constrained")
ax1, ax2 = fig.subplots(1, 2, sharey=True)
t = np.arange(STEPS + 1)
ax1.plot(t, (1 - 2e-4) ** t, lw=2, label="θ₀ = 0.01, 1 and 100:\nthe same curve (1 − ηλ)ᵗ")
ax1.set_title("AdamW: decoupled decay")
theta_l2, state = theta0, adam.init(theta0)
traj = [theta0["w"]]
for _ in range(STEPS):
    theta_l2, state = adam.step(theta_l2, {"w": 0.2 * theta_l2["w"]}, state)
    traj.append(theta_l2["w"])
traj = np.array(traj) / theta0["w"]
for k, (w0, style) in enumerate(zip(theta0["w"], ("-", "--", ":"))):
    ax2.plot(t, traj[:, k], style, lw=2, label=f"θ₀ = {w0:g}")
ax2.set_title("Adam + L2: the decay depends on θ₀")
for ax in (ax1, ax2):
    ax.set_xlabel("step (zero loss gradient)")
    ax.legend(fontsize=8)
ax1.set_ylabel("θ / θ₀")
course.save(fig, LESSON, "decay")
course.done()

# %% [markdown]
# ## Exercises
#
# Edit the stubs in `lessons/exercises/03_adamw.py`, then check them from the repository root
# (or from `lessons/`) with `python -m lmn_edu.course check 03`: ✓ or ✗ per exercise. Stuck? Add
# `--hint` for a nudge, `--hint 2` and `--hint 3` for more of the idea (never the code). Easy to hard:
#
# 1. ★ (5 min) **Implement** `decay_after`: θ after t zero-gradient steps, in closed form.
# 2. ★ (10 min) **Implement** `steps_to_halve`: the first whole number of zero-gradient steps that halves a weight.
# 3. ★★ (20 min) **Implement** `adamw_step`: one AdamW step, decay first, as `lmn_edu.AdamW` does (also resumed at a later step).
# 4. **Predict, then run.** With weight decay 0.2 and lr 1e-3, after how many zero-gradient steps is a weight halved? Compute it from your `decay_after`, then check with `lmn_edu.AdamW`.
# 5. **Open question.** The paper's grokking needs weight decay. Which part of the AdamW step still acts once the training loss is almost zero, and what does it do to the network?
