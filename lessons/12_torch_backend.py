# %% [markdown]
# # Lesson 12 — full-size runs with the torch backend
#
# **Goals.** Run the same loop on the torch backend; see float64 agree with NumPy to rounding and float32 drift; run the three tasks at full size (GPU when present).
#
# **Prerequisites.** Lesson 07; PyTorch installed (the lesson says so and stops without it).
#
# **Time.** quick mode (`LMN_EDU_QUICK=1`): about 5 s of CPU time (it reads the committed full-size runs); full mode: about 15 min on 2 CPU cores, less on a GPU.
# Exercises at the end: stubs in `lessons/exercises/12_torch_backend.py`.
#
# Everything so far ran on the NumPy backend: autograd for gradients, our own AdamW, float64.
# It is easy to read and exact, but slow. The torch backend runs the *same* training loop
# (`lmn_edu.train.train`) with PyTorch: torch's autograd, `torch.optim.AdamW`, and a GPU when
# there is one. Choose it with `RunConfig(backend="torch")` or on the command line:
#
#     python -m lmn_edu.run --task add s4 xor --backend torch --dtype float64
#
# Both backends start from the same NumPy initialisation, so in float64 they should follow
# the same trajectory up to rounding. torch defaults to float32 (fast on GPUs); the
# authors' own code trained in float64, so the full-size runs here use float64 too (lesson 12's
# exercise 1 shows one way precision can matter late in training).
#
# PyTorch is optional: without it this lesson says so and stops.

# %%
from lmn_edu import course
from lmn_edu.course import check, compare, observe, pick

import time

import numpy as np

import lmn_edu
from lmn_edu.analysis import phase_steps
from lmn_edu.plots import fig2
from lmn_edu.train import train

LESSON = "12_torch_backend"
COMPARE_STEPS = pick(60, 300)
course.header(
    "Lesson 12: full-size runs with the torch backend",
    "a 60-step comparison of the two backends instead of 300; no training of the three tasks: the committed "
    "full-size torch runs (results/paper, 20 000 steps, float64) are read instead",
    "the comparison, then 20 000 steps of add, s4 and xor in float64 with LMN every 500 steps on the "
    "training pairs; about 15 minutes for the three on 2 CPU cores, less on a GPU")

try:
    import torch
except ImportError:
    torch = None
    print("PyTorch is not installed: nothing to run in this lesson (pip install torch, then run it again)")

# %% [markdown]
# ## Where it runs

# %%
if torch is not None:
    device = "cuda" if torch.cuda.is_available() else "cpu"
    name = torch.cuda.get_device_name(0) if device == "cuda" else "CPU"
    print(f"torch {torch.__version__}, device: {device} ({name})")

# %% [markdown]
# ## The same run on both backends
#
# 300 steps (quick: 60) of addition mod 31, identical configs except the backend, both float64 and on
# the CPU so that only the implementations differ. The histories should agree to rounding;
# the LMN is measured on the 193 test pairs.

# %%
def compare_config(backend, dtype="float64", device="cpu", lmn=("h1",)):
    return lmn_edu.RunConfig(task="add", backend=backend, dtype=dtype, device=device, steps=COMPARE_STEPS,
                             eval_every=pick(20, 50), lmn_every=pick(60, 150), lmn_log=0, lmn_layers=lmn,
                             lmn_points="test", out=str(course.output_root() / "compare" / dtype))


if torch is not None:
    timings = {}
    histories = {}
    for backend in ("numpy", "torch"):
        start = time.perf_counter()
        histories[backend] = train(compare_config(backend), overwrite=True).rows
        timings[backend] = time.perf_counter() - start
    a, b = histories["numpy"], histories["torch"]
    worst = {key: max(abs(x[key] - y[key]) / max(abs(x[key]), 1e-12) for x, y in zip(a, b) if x.get(key) is not None)
             for key in ("train_loss", "test_loss", "l2", "lmn_h1")}
    print(f"{'step':>5s} {'numpy loss':>12s} {'torch loss':>12s} {'numpy LMN':>10s} {'torch LMN':>10s}")
    for x, y in zip(a, b):
        lmn_x = f"{x['lmn_h1']:10.4f}" if x.get("lmn_h1") is not None else " " * 10
        lmn_y = f"{y['lmn_h1']:10.4f}" if y.get("lmn_h1") is not None else " " * 10
        print(f"{x['step']:5d} {x['train_loss']:12.8f} {y['train_loss']:12.8f} {lmn_x} {lmn_y}")
    print("largest relative differences: " + ", ".join(f"{k} {v:.1e}" for k, v in worst.items()))
    check(max(worst.values()) < 1e-9, "numpy and torch (float64) follow the same trajectory, to 1e-9 relative")
    ratio = timings["numpy"] / timings["torch"]
    print(f"wall time for the same {COMPARE_STEPS} steps: numpy {timings['numpy']:.1f} s, torch {timings['torch']:.1f} s: "
          f"torch took {1 / ratio:.1f}× the time numpy took (" + ("torch faster" if ratio > 1 else "numpy faster") +
          ", on this machine, this once)")

# %% [markdown]
# ## float32 against float64
#
# Same run on torch in float32. Single precision carries about 7 significant digits, and
# training amplifies rounding differences; within a few dozen steps the two runs are no longer
# the same numbers, though they tell the same story so early in training.

# %%
if torch is not None:
    f32 = train(compare_config("torch", "float32", lmn=()), overwrite=True).rows
    drift = max(abs(x["train_loss"] - y["train_loss"]) / x["train_loss"] for x, y in zip(histories["torch"], f32))
    print(f"largest relative difference of the train loss, float32 vs float64: {drift:.1e}")
    check(drift > 1e-12, "float32 does not reproduce float64 to the last digit")
    mem32, mem64 = phase_steps(f32)[0], phase_steps(histories["torch"])[0]
    if mem64 is None:
        print(f"  – not tested (run too short): neither run memorizes within {COMPARE_STEPS} steps")
    else:
        observe(mem32 == mem64, f"float32 memorizes at the same evaluated step as float64 (step {mem64}, "
                f"evaluated every {compare_config('torch').eval_every} steps)")

# %% [markdown]
# ## Full-size runs: the paper's three tasks
#
# Each run writes its folder (config.json, history.json, history.csv, params.npz) under the
# lesson's folder; a finished run is reused the next time. Quick mode trains nothing here: it
# reads the committed runs of the same setting (`results/paper/{add,s4,xor}-s0`, trained with
# this backend in float64), so the verdicts below are about full-size runs in both modes.

# %%
if torch is not None:
    runs = {}
    for task in lmn_edu.TASKS:
        start = time.perf_counter()
        if course.quick():
            rows = course.paper_run(task)[1]
        else:
            config = lmn_edu.RunConfig(task=task, backend="torch", dtype="float64", steps=20_000, eval_every=100,
                                       lmn_every=500, lmn_log=20, out=str(course.output_root() / "runs"))
            rows, _ = course.run_history(config)
        runs[task] = rows
        memorized, generalized = phase_steps(rows)
        last = rows[-1]
        when = lambda step: f"at step {step}" if step is not None else "not yet"
        print(f"{task:4s}: train acc {last['train_acc']:.3f}, test acc {last['test_acc']:.3f}, LMN(h1) "
              f"{last['lmn_h1']:.2f}; memorized {when(memorized)}, generalized {when(generalized)}; "
              f"{time.perf_counter() - start:.0f} s")
        check(all(np.isfinite(r["train_loss"]) for r in rows), f"{task}: the loss stayed finite")
        path = course.figure_dir(LESSON) / f"fig2_{task}.png"
        fig2(rows, path, title=f"{task}, torch float64, seed 0{' (the committed run)' if course.quick() else ''}")
        course.show(path)
    for task, rows in runs.items():
        compare(phase_steps(rows)[1] is not None, f"{task}: test accuracy reaches 1.0 within 20 000 steps")
course.done()

# %% [markdown]
# ## Exercises
#
# Edit the stubs in `lessons/exercises/12_torch_backend.py`, then check them from the repository root
# (or from `lessons/`) with `python -m lmn_edu.course check 12`: ✓ or ✗ per exercise. Stuck? Add
# `--hint` for a nudge, `--hint 2` and `--hint 3` for more of the idea (never the code). Easy to hard:
#
# 1. ★★ (10 min) **Implement** `collapse_margin`: the margin above which softmax cross-entropy is exactly 0 in a dtype.
# 2. ★★ (15 min) **Implement** `max_relative_difference`: how far two histories drift apart, rows matched by step.
# 3. ★★★ (25 min) **Implement** `cross_entropy_in`: each sample's cross-entropy computed in float16, float32 or float64, stable and with its collapse.
# 4. **Predict, then run.** Train the 300-step comparison in float32 on the NumPy backend (`backend="numpy", dtype="float32"`). Will it drift from float64 as much as torch's float32 does?
# 5. **Open question.** In float32 a margin of about 16.6 makes a sample's loss and gradient exactly 0. Weight decay keeps shrinking the weights meanwhile. How could that change when, or whether, a network generalizes?
