# %% [markdown]
# # Lesson 02 — the MLP and its gradients
#
# **Goals.** Write the paper's MLP as a pure function of a params dict; know its shapes and initialisation; check autograd's gradient against finite differences.
#
# **Prerequisites.** Lesson 01; the chain rule.
#
# **Time.** quick mode (`LMN_EDU_QUICK=1`): 3 s; full mode: 5 s.
# Exercises at the end: stubs in `lessons/exercises/02_mlp.py`.
#
# The paper's network is small:
#
#     tokens (a, b) ─ emb ─▶ concat (64) ─ W1 ─▶ z1 ─ SiLU ─▶ h1 ─ W2 ─▶ z2 ─ SiLU ─▶ h2 ─ W3 ─▶ logits
#
# Each token gets a learned 32-number embedding; the two are concatenated into 64 numbers,
# then two hidden layers of 100 units with the SiLU activation silu(x) = x·sigmoid(x), and a
# final linear layer with one logit per class. In `lmn_edu` the parameters are a plain dict
# of NumPy arrays and the network is a pure function of it.
#
# Training needs the gradient of the loss with respect to every parameter. We let
# *autograd* compute it (reverse-mode automatic differentiation) and check it here against
# the oldest method there is: nudge one number by ±h and watch the loss change
# (central finite differences).

# %%
from lmn_edu import course
from lmn_edu.course import check, pick

import numpy as np
from autograd import grad
from matplotlib.figure import Figure

import lmn_edu

LESSON = "02_mlp"
N_CHECK = pick(8, 40)
course.header("Lesson 02: the MLP and its gradients",
               f"{N_CHECK} finite-difference checks per parameter array instead of 40",
               f"{N_CHECK} finite-difference checks per parameter array; a few seconds")

rng = np.random.default_rng(0)
task = lmn_edu.make_task("add")
params = lmn_edu.init_params(rng, task.vocab_size, task.n_classes, emb_dim=32, hidden=100)
for name, value in params.items():
    print(f"  {name:4s} {str(value.shape):10s} {value.dtype}")
n_params = sum(v.size for v in params.values())
print(f"{n_params} numbers in all")
check(n_params == 31 * 32 + (64 * 100 + 100) + (100 * 100 + 100) + (100 * 31 + 31),
      "parameter count = embeddings + three Linear layers (weights and biases)")

# %% [markdown]
# ## Initialisation
#
# As torch does by default: embeddings from N(0, 1), and each Linear layer's weights and
# biases uniform in ±1/√fan_in. The output logits start small, so the first prediction is
# close to uniform over the 31 classes and the first loss is close to ln 31.

# %%
emb = params["emb"]
print(f"emb: mean {emb.mean():+.3f}, std {emb.std():.3f}")
check(abs(emb.std() - 1.0) < 0.1, "embedding entries have standard deviation ≈ 1")
for W, fan_in in (("W1", 64), ("W2", 100), ("W3", 100)):
    bound = 1 / np.sqrt(fan_in)
    check(np.abs(params[W]).max() <= bound, f"{W}: every weight within ±1/√{fan_in} = ±{bound:.3f}")
loss0 = lmn_edu.loss(params, task.inputs, task.labels)
print(f"loss at initialisation {loss0:.4f}, ln 31 = {np.log(31):.4f}")
check(abs(loss0 - np.log(31)) < 0.2, "the untrained network's loss is close to ln(classes): a near-uniform guess")

# %% [markdown]
# ## The named representations
#
# `lmn_edu.representations` returns every intermediate array. Later lessons measure the
# linear mapping number *from* one of these to the output.

# %%
reps = lmn_edu.representations(params, task.inputs)
for name in lmn_edu.LAYERS:
    print(f"  {name:6s} {reps[name].shape}")
check(np.allclose(reps["logits"], lmn_edu.forward(params, task.inputs), rtol=0, atol=1e-12),
      "forward() is the last representation")
check(np.allclose(reps["h1"], reps["z1"] / (1 + np.exp(-reps["z1"])), rtol=1e-12, atol=1e-15),
      "h1 = SiLU(z1) = z1 · sigmoid(z1)")

# %% [markdown]
# ## Gradients: autograd against finite differences
#
# For a parameter θ, (loss(θ + h) − loss(θ − h)) / 2h approaches the derivative with an
# error of order h² (truncation) plus ε·loss/h (rounding, ε ≈ 1e-16 in float64); h = 1e-5
# balances the two at about 1e-10. So we expect |autograd − finite difference| of order
# 1e-10 and check it is below 1e-8 + 1e-6·|gradient|. We use a batch of 64
# pairs and check random entries of every parameter array. An embedding row only gets a
# gradient if its token occurs in the batch: autograd knows that too.

# %%
batch = rng.choice(len(task), 64, replace=False)
x, y = task.inputs[batch], task.labels[batch]
g = grad(lmn_edu.loss)(params, x, y)
h = 1e-5
worst = 0.0
pairs = []
for name, value in params.items():
    flat_idx = rng.choice(value.size, min(N_CHECK, value.size), replace=False)
    if name == "emb":   # check rows that occur in the batch, where the gradient is not zero
        used = np.unique(x)
        flat_idx = rng.choice(used, N_CHECK) * value.shape[1] + rng.integers(0, value.shape[1], N_CHECK)
    for k in flat_idx:
        idx = np.unravel_index(k, value.shape)
        plus = {**params, name: value.copy()}
        minus = {**params, name: value.copy()}
        plus[name][idx] += h
        minus[name][idx] -= h
        fd = (lmn_edu.loss(plus, x, y) - lmn_edu.loss(minus, x, y)) / (2 * h)
        ad = g[name][idx]
        worst = max(worst, abs(fd - ad) / (1e-8 + 1e-6 * abs(ad)))   # ≤ 1 passes
        pairs.append((ad, fd))
diff = np.abs(np.diff(np.array(pairs), axis=1))
print(f"{len(pairs)} entries checked; |autograd − finite difference|: median {np.median(diff):.1e}, "
      f"largest {diff.max():.1e}")
check(worst <= 1.0, "autograd's gradient matches central finite differences (difference < 1e-8 + 1e-6·|gradient|)")
unused = np.setdiff1d(np.arange(task.vocab_size), np.unique(x))
if len(unused):
    check(np.all(g["emb"][unused] == 0), f"tokens absent from the batch ({len(unused)} of them) get zero embedding gradient")

# %%
pairs = np.array(pairs)
fig = Figure(figsize=(5, 4.5), layout="constrained")
ax = fig.subplots()
ax.plot(pairs[:, 0], pairs[:, 1], ".", ms=4)
lim = np.abs(pairs).max()
ax.plot([-lim, lim], [-lim, lim], lw=0.5, color="gray")
ax.set_xlabel("autograd")
ax.set_ylabel("finite differences")
ax.set_title("dloss/dθ for random entries θ")
course.save(fig, LESSON, "gradients")
course.done()

# %% [markdown]
# ## Exercises
#
# Edit the stubs in `lessons/exercises/02_mlp.py`, then check them from the repository root
# (or from `lessons/`) with `python -m lmn_edu.course check 02`: ✓ or ✗ per exercise. Stuck? Add
# `--hint` for a nudge, `--hint 2` and `--hint 3` for more of the idea (never the code). Easy to hard:
#
# 1. ★ (10 min) **Implement** `central_difference`: the gradient of a scalar function by central differences, for the h given.
# 2. ★★ (15 min) **Implement** `forward`: the MLP's logits with NumPy only (embedding lookup, two SiLU layers, linear output).
# 3. ★★★ (25 min) **Implement** `output_layer_grad`: ∂loss/∂W3 and ∂loss/∂b3 of the mean cross-entropy, derived by hand, stable for large logits.
# 4. **Predict, then run.** Change `h = 1e-5` to `1e-9` in the gradient cell. Will the largest |autograd − finite difference| grow or shrink, and by about how much? (Hint: rounding error ε·loss/h.)
# 5. **Open question.** The embedding rows of tokens absent from a batch get zero gradient. With full-batch training (as here) that never happens; what would change with mini-batches?
