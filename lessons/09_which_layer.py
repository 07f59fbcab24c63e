# %% [markdown]
# # Lesson 09 — which layer? The affine-prefix identity and the paper's Fig 3
#
# **Goals.** Know which representation LMN is measured from; prove and check the affine-prefix identity; see why LMN(h2 → logits) = 1 always.
#
# **Prerequisites.** Lessons 04, 07.
#
# **Time.** quick mode (`LMN_EDU_QUICK=1`): 10–20 s; full mode: about 2 min after lesson 07.
# Exercises at the end: stubs in `lessons/exercises/09_which_layer.py`.
#
# LMN is measured from some representation inside the network to its output: take the
# representations of two inputs at that layer, walk the straight line between them, and
# push every point through the *rest* of the network (the "tail"). Our network names its
# representations
#
#     emb ─ W1 ─▶ z1 ─ SiLU ─▶ h1 ─ W2 ─▶ z2 ─ SiLU ─▶ h2 ─ W3 ─▶ logits
#
# The paper's main figures use the first hidden layer (h1); its Fig 3 (Appendix A) also
# shows the embedding and the second hidden layer.
#
# **The affine-prefix identity.** An affine map commutes with walking a line:
# A(x_i + λ(x_j − x_i)) + b = y_i + λ(y_j − y_i), with y = A x + b. So if the tail *starts*
# with an affine map, we may apply it to the two endpoints first and walk the line
# afterwards: the curves, and so L, are the same. Consequences:
#
# - LMN(emb) = LMN(z1) and LMN(h1) = LMN(z2);
# - from h2 the tail is W3 alone — affine — so every line stays a line: LMN(h2) = 1, always.
#
# A 3-layer MLP measured to its logits therefore has only **two** non-trivial LMN curves,
# while the paper's Fig 3 shows three. We check the identity, plot our Fig 3, and try one
# reading under which the third curve is non-trivial: measuring to the softmax
# probabilities instead of the logits.

# %%
from lmn_edu import course
from lmn_edu.course import check, compare, pick

import numpy as np
from matplotlib.figure import Figure

import lmn_edu
from lmn_edu.analysis import LEVEL_FRACTION, column, levels_off, phase_steps, reached
from lmn_edu.train import lmn_points, setup_run

LESSON = "09_which_layer"
N_ID = pick(50, 150)
config = course.add_run_config().validated()
course.header("Lesson 09: which layer?",
              f"identity checked on {N_ID} points instead of 150, with the committed run's parameters at step "
              "10 600; Fig 3 and the probabilities from the committed full-size run (results/paper/add-s0)",
              "Fig 3 from the full run of lesson 07 (reused if lesson 07 left it here; else about 10 minutes "
              "of CPU time to train it), then about 1 minute more")

# %% [markdown]
# ## The identity, checked against the plain definition
#
# `lmn_edu.tail_function(params, layer)` is the rest of the network after `layer`; feeding
# it to the generic `lmn_edu.connectivity_matrix` is the definition of L, eq (1)–(2), with
# no shortcut. `lmn_edu.layer_connectivity` is the package's fast path, which *uses* the
# identity (it walks the line just before the first nonlinearity). Both must agree, at
# initialisation and after training.

# %%
if course.quick():
    rows, final_params, final_label = course.paper_run("add")[1], course.paper_snapshot(10600), "step 10600"
else:
    (rows, final_params), final_label = course.run_history(config), f"step {config.steps}"
task, train_idx, test_idx, init_params = setup_run(config)
inputs = task.inputs[train_idx[:N_ID]]
for label, params in (("initial", init_params), ("trained", final_params)):
    reps = lmn_edu.representations(params, inputs)
    L = {layer: lmn_edu.connectivity_matrix(lmn_edu.tail_function(params, layer), reps[layer])
         for layer in lmn_edu.LMN_LAYERS}                                        # each (N_ID, N_ID)
    lmns = {layer: lmn_edu.linear_mapping_number(m) for layer, m in L.items()}
    print(f"{label} params, {N_ID} points: " + ", ".join(f"LMN({k}) = {v:.3f}" for k, v in lmns.items()))
    check(np.allclose(L["emb"], L["z1"], rtol=0, atol=1e-9), f"{label}: L(emb) = L(z1)")
    check(np.allclose(L["h1"], L["z2"], rtol=0, atol=1e-9), f"{label}: L(h1) = L(z2)")
    check(np.allclose(L["h2"], 1.0, rtol=0, atol=1e-12) and np.isclose(lmns["h2"], 1.0, rtol=1e-9),
          f"{label}: L(h2) is all ones and LMN(h2) = 1 (to rounding)")
    fast = {layer: lmn_edu.layer_connectivity(params, inputs, layer) for layer in ("emb", "h1")}
    check(all(np.allclose(fast[k], L[k], rtol=0, atol=1e-9) for k in fast),
          f"{label}: the fast path equals the plain definition")

# %% [markdown]
# ## Our Fig 3
#
# The LMN from emb, h1 and h2 to the logits during the run of lesson 07. The paper says only
# the first hidden layer tracks the hidden progress; the embedding and the second hidden
# layer "plateau quickly after memorization". Ours: h2 is the flat line at 1 by the
# identity, and we measure how far the embedding's LMN falls in the generalizing phase,
# relative to h1's.

# %%
memorized, generalized = phase_steps(rows)
end = generalized if generalized is not None else rows[-1]["step"]
curves = {layer: tuple(map(np.array, column(rows, f"lmn_{layer}"))) for layer in ("emb", "h1", "h2")}
print(f"LMN(h2) over the run: from {curves['h2'][1].min():.12f} to {curves['h2'][1].max():.12f}")
check(np.allclose(curves["h2"][1], 1.0, rtol=0, atol=1e-9), "LMN(h2 → logits) = 1 at every measured step (to rounding)")


def relative_fall(layer):
    """How far the LMN fell in the generalizing phase: from its peak there to the phase's end."""
    steps, values = curves[layer]
    v = values[(steps >= memorized) & (steps <= end)]
    return (v.max() - v[-1]) / v.max()


for layer in ("emb", "h1"):
    s, v = curves[layer]
    print(f"LMN({layer}): step 0 {v[0]:.2f}, max {v.max():.2f} (step {s[v.argmax()]}), last {v[-1]:.2f}; "
          f"falls by {relative_fall(layer):.1%} from its peak in the generalizing phase (steps {memorized}–{end})")
compare(relative_fall("emb") < 0.5 * relative_fall("h1"),
        "the embedding's LMN falls much less than the first hidden layer's in the generalizing phase",
        evidence=reached(rows, "generalized"))
s_emb, v_emb = curves["emb"]
after = v_emb[s_emb >= memorized]
level = levels_off(s_emb, v_emb, after_step=end, before_start=memorized)
top = int(s_emb[v_emb.argmax()])
print(f"LMN(emb) after memorization: from {after[0]:.2f} to {after[-1]:.2f} ({after[-1] / after[0] - 1:+.0%}); "
      f"its maximum, {v_emb.max():.2f}, is at step {top}" + (" (the last step: still rising)" if top == s_emb[-1] else ""))
compare(level["levels_off"] and top < s_emb[-1],
        f"the embedding's LMN plateaus after memorization ('plateaus': it levels off by lesson 07's criterion — slope "
        f"after generalization at most {LEVEL_FRACTION:g} × the slope during it; here "
        f"{level['rate_before'] or 0:+.2f} then {level['rate_after'] or 0:+.2f} per 1 000 steps — and is no longer "
        "rising at the end of the run)",
        evidence=reached(rows, "generalized") and level["levels_off"] is not None)

# %% [markdown]
# ## To the probabilities instead of the logits
#
# If LMN is measured to the softmax output (`output="probs"`), the tail from h2 is W3
# followed by softmax — no longer affine — and LMN(h2) can differ from 1. The paper does
# not say which output it used; this is one reading under which its three curves could all
# be non-trivial. We compare the two readings at the start and end of the run.

# %%
points = pick(inputs, lmn_points(task, train_idx, test_idx, config.lmn_points))   # quick: the N_ID points
print(f"on {len(points)} training pairs")
for label, params in (("step 0", init_params), (final_label, final_params)):
    to_logits = lmn_edu.layers_lmn(params, points, ("emb", "h1", "h2"), output="logits")
    to_probs = lmn_edu.layers_lmn(params, points, ("emb", "h1", "h2"), output="probs")
    print(f"{label:>11s}: to logits " + ", ".join(f"{k} {v:6.2f}" for k, v in to_logits.items()) +
          " | to probs " + ", ".join(f"{k} {v:6.2f}" for k, v in to_probs.items()))
    if label != "step 0":
        final_probs = to_probs
check(final_probs["h2"] > 1.0, "measured to the probabilities, LMN(h2) is no longer 1")

# %%
fig = Figure(figsize=(6.5, 4), layout="constrained")
ax = fig.subplots()
for layer, (s, v) in curves.items():
    ax.plot(np.maximum(s, 1), v, ".-", label=layer)
ax.axvline(max(memorized, 1), color="gray", ls=":", lw=1, label="memorized")
if generalized is not None:
    ax.axvline(generalized, color="gray", ls="--", lw=1, label="generalized")
ax.set_xscale("log")
ax.set_xlabel("step")
ax.set_ylabel("LMN (layer → logits)")
ax.set_title("our Fig 3: LMN from each layer (h2 → logits is 1 by the identity)")
ax.legend(fontsize=8)
course.save(fig, LESSON, "fig3")
course.done()

# %% [markdown]
# ## Exercises
#
# Edit the stubs in `lessons/exercises/09_which_layer.py`, then check them from the repository root
# (or from `lessons/`) with `python -m lmn_edu.course check 09`: ✓ or ✗ per exercise. Stuck? Add
# `--hint` for a nudge, `--hint 2` and `--hint 3` for more of the idea (never the code). Easy to hard:
#
# 1. ★ (10 min) **Implement** `tail_h1`: the rest of the network after h1.
# 2. ★ (5 min) **Implement** `tail_emb`: the rest of the network after the embedding.
# 3. ★★★ (30 min) **Implement** `connectivity_via_z2`: the affine-prefix identity by hand: L from h1, walking the lines in z2.
# 4. **Predict, then run.** Measure LMN from h2 to the probabilities (`output="probs"`) at step 0 and at the end: will it be larger or smaller at the end, and why?
# 5. **Open question.** The paper's Fig 3 shows three non-trivial curves; a 3-layer MLP to its logits has two. Which reading of the paper do you find most plausible?
