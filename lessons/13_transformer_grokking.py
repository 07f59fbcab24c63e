# %% [markdown]
# # Lesson 13 — grokking in a transformer: does it compress too?
#
# **Goals.** Build the one-layer transformer of Nanda et al. (ICLR 2023) from its parts; see what the points of LMN are when the input is a sequence; learn which affine-prefix identities survive attention; read three committed grokking runs and test whether LMN tracks the test loss better than L2 — with statistics that can tell.
#
# **Prerequisites.** Lessons 05 (LMN), 07 (phases) and 08 (LMN against test loss).
#
# **Time.** quick mode (`LMN_EDU_QUICK=1`): about 10 s (reads the committed runs); full mode: one seed of the small configuration trained here, about 5–10 minutes of CPU.
# Exercises at the end: stubs in `lessons/exercises/13_transformer_grokking.py`.
#
# The paper measured LMN on a 3-layer MLP. The network the grokking literature studies is a
# one-layer transformer on a + b mod p, read at the "=" of the sequence "a b =" (Nanda et al.,
# "Progress measures for grokking via mechanistic interpretability", ICLR 2023: p = 113,
# d_model 128, 4 heads, d_mlp 512, AdamW lr 1e-3, weight decay 1, 30% of the pairs for training).
# `lmn_edu.transformer` writes it as pure functions of a params dict, like `lmn_edu.mlp`; the
# same loop trains it: `python -m lmn_edu.run --model transformer`.

# %%
from lmn_edu import course
from lmn_edu.course import check, compare, observe

import numpy as np

import lmn_edu
from lmn_edu import transformer, transformer_report
from lmn_edu.analysis import column, phase_steps, reached
from lmn_edu.config import RunConfig
from lmn_edu.plots import fig2_seeds

LESSON = "13_transformer_grokking"
course.header(
    "Lesson 13: grokking in a transformer",
    "no training: the three committed runs of the small configuration (results/transformer) are read",
    "seed 0 of the small configuration is trained here (as results/transformer has it), the other seeds read")

# %% [markdown]
# ## The network, piece by piece
#
# Tokens a, b and "=" (id p) are embedded, a position embedding is added: the residual stream
# `emb`, three vectors of d_model. One attention layer lets the "=" position read a and b; an
# MLP with ReLU acts on the result; the unembedding gives the logits. Nanda's model computes
# every position under a causal mask, but with one layer only the "=" query reaches the logits,
# so we compute that one: the same logits, for a third of the work (tests/test_transformer.py
# checks it against a causal implementation).

# %%
rng = np.random.default_rng(0)
p, d, heads, d_mlp = 11, 16, 4, 64
params = transformer.init_params(rng, p, p, d, heads, d_mlp)
for k, v in params.items():
    print(f"  {k:6s} {str(v.shape):10s} std {v.std():.3f}")
task = lmn_edu.make_task("add", modulus=p)
reps = transformer.representations(params, task.inputs, heads)
for k, v in reps.items():
    print(f"  {k:7s} {v.shape}")
check(reps["emb"].shape == (p * p, 3 * d), "the points of LMN: the embedded sequences, flattened to 3·d_model numbers")
check(np.allclose(reps["logits"], transformer.forward(params, task.inputs, heads)), "the logits are read at '='")

# %% [markdown]
# ## Which affine-prefix identities hold?
#
# In the MLP, an affine map right after a layer commutes with drawing lines, so LMN(emb) = LMN(z1)
# and LMN(h2) = 1. **Predict, then run**: which of LMN(emb), LMN(attn), LMN(mlp) is exactly 1?
# Attention's scores q·k are quadratic in the residual stream: no identity crosses it. After the
# MLP, the unembedding is affine.

# %%
pts = task.inputs[rng.permutation(len(task))[:40]]
lmn0 = transformer.layers_lmn(params, pts, ("emb", "attn", "mlp"), heads)
print("at init: " + ", ".join(f"LMN({k}) = {v:.3f}" for k, v in lmn0.items()))
L = lmn_edu.connectivity_matrix(transformer.tail_function(params, "mlp", heads), reps["mlp"][:40])
check(abs(lmn_edu.linear_mapping_number(L) - 1) < 1e-9, "from mlp the tail is the unembedding: LMN = 1, as from h2 in the MLP")
check(lmn0["emb"] > 1 and lmn0["attn"] > 1, "through attention or the ReLU MLP lines bend: LMN > 1")

# %% [markdown]
# ## Three grokking runs
#
# Nanda's size takes hours of CPU with NumPy; `docs/transformer.md` says what smaller
# configuration groks on a CPU within minutes, and how it was found. Its three seeds are
# committed in `results/transformer/`; in full mode seed 0 is trained again here.

# %%
runs = transformer_report.load()
name, saved, rows0 = runs[0]
config = RunConfig.from_dict(saved)
for key in ("modulus", "d_model", "n_heads", "d_mlp", "lr", "weight_decay", "beta2", "train_frac", "steps",
            "lmn_every", "lmn_n_points", "lmn_layers"):
    print(f"  {key:14s} {getattr(config, key)}")
if not course.quick():
    from dataclasses import replace
    rows0, _ = course.run_history(replace(config, out=str(course.output_root() / "runs"), name=name))
    runs[0] = (name, saved, rows0)
for name, c, rows in runs:
    mem, gen = phase_steps(rows)
    said = lambda step: "never" if step is None else f"at step {step}"
    print(f"  {name}: train acc 1.0 {said(mem)}, test acc 1.0 {said(gen)}; final test acc {rows[-1]['test_acc']:.3f}")
    check(mem is not None, f"seed {c['seed']} memorizes")
    compare(gen is not None and gen > 2 * mem, f"seed {c['seed']} groks: generalization long after memorization",
            evidence=reached(rows, "generalized"), missing="it did not generalize within the run")

# %%
seeds = [(c["seed"], rows) for _, c, rows in runs]
fig = fig2_seeds({"transformer, LMN from emb": seeds}, layer="emb")
course.save(fig, LESSON, "transformer_emb")

# %% [markdown]
# ## Does LMN rise and fall as in the MLP, and track the test loss?
#
# In the generalizing phase test loss, LMN, L2 and time all change monotonically: any two have
# a high r. The report's statistics ask more: is test loss a *line* in LMN (a parabola does not
# fit better, the line's residuals are not runs of one sign), and does LMN explain anything that
# −log step, a clock, does not?

# %%
for layer in transformer_report.LAYERS:
    for _, c, rows in runs:
        s = transformer_report.summarize(c, rows, layer)
        if s is None:
            continue
        print(f"  seed {s['seed']} LMN({layer}): start {transformer_report.fmt(s['start'])}, peak "
              f"{transformer_report.fmt(s['peak'])}, end {transformer_report.fmt(s['end'])}: "
              f"{transformer_report.verdict(s)}")
        t = s["track"]["after memorization"]
        if t is not None:
            f = transformer_report.fmt
            print(f"      after memorization, test loss in LMN: r {f(t['lmn']['r'])}, R² line {f(t['lmn']['r2_lin'])}, "
                  f"added to −log step {f(t['lmn']['added_to_time'], 3)} (chance {f(t['chance_added'], 3)});  "
                  f"in L2: r {f(t['l2']['r'])}, R² line {f(t['l2']['r2_lin'])}, added {f(t['l2']['added_to_time'], 3)}")
        compare(s["rises"] and s["falls"], f"seed {s['seed']}: LMN({layer}) rises while memorizing, then falls",
                evidence=reached(rows, "generalized"), missing="the run did not generalize")
course.done()

# %% [markdown]
# ## Exercises
#
# Edit the stubs in `lessons/exercises/13_transformer_grokking.py`, then check them from the repository root
# (or from `lessons/`) with `python -m lmn_edu.course check 13`: ✓ or ✗ per exercise, with a hint.
#
# 1. ★ (10 min) **Implement** `embed_sequences`: the points of LMN, the flattened embedded sequences.
# 2. ★★ (25 min) **Implement** `attention_from_equals`: multi-head attention from the "=" query.
# 3. ★★★ (40 min) **Implement** `transformer_lmn`: LMN from `emb` or `attn` to the logits, with your own tail and `lmn_edu.connectivity_matrix`.
# 4. **Predict, then run.** LMN from the *full* residual stream after attention (all three positions, 3·d numbers) against LMN from the "=" position alone: equal, larger or smaller? Build the tail that ignores positions 0 and 1 and see.
# 5. **Open question.** Nanda et al. show the grokked network computes a + b with a few Fourier frequencies (cos and sin of 2πk(a + b)/p). What would LMN measure on such a network — and should that circuit look "linear" along a line between two embedded sequences?
