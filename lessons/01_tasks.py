# %% [markdown]
# # Lesson 01 — the three tasks and their tables
#
# **Goals.** Read the three tasks as operation tables; check that S4 is a group and not commutative; see what the random 80/20 split gives away.
#
# **Prerequisites.** Python and NumPy indexing.
#
# **Time.** quick mode (`LMN_EDU_QUICK=1`): 3 s; full mode: 3 s.
# Exercises at the end: stubs in `lessons/exercises/01_tasks.py`.
#
# The paper trains a small network on three *algorithmic* tasks. Each is a binary
# operation a ∘ b on a finite set of symbols, and the data set is its whole
# operation table: every ordered pair (a, b) with the answer a ∘ b.
#
# - **add**: addition modulo 31 — 31 symbols, 31 × 31 = 961 pairs.
# - **s4**: composing permutations of four things (the group S4) — 24 symbols, 576 pairs.
# - **xor**: bitwise XOR of 5-bit numbers — 32 symbols, 1024 pairs.
#
# The network never sees numbers or permutations, only two *tokens*: it must discover
# the structure from 80% of the table and fill in the other 20%. Here we print the
# tables, check that S4 really is a group (and not a commutative one), and look at the
# random 80/20 split.

# %%
from lmn_edu import course
from lmn_edu.course import check

import numpy as np
from matplotlib.figure import Figure

import lmn_edu
from lmn_edu.datasets import s4_elements

LESSON = "01_tasks"
course.header("Lesson 01: the three tasks", "nothing to shrink (no training)", "a few seconds")


def table(task):
    """The operation table T[a, b] = a ∘ b, built from the task's (inputs, labels)."""
    n = task.vocab_size
    T = np.full((n, n), -1)                                     # (V, V)
    T[task.inputs[:, 0], task.inputs[:, 1]] = task.labels
    return T


tasks = {name: lmn_edu.make_task(name) for name in lmn_edu.TASKS}
tables = {name: table(t) for name, t in tasks.items()}
for name, t in tasks.items():
    print(f"{name:4s}: {len(t)} pairs, {t.vocab_size} input symbols, {t.n_classes} classes")
    check(np.all(tables[name] >= 0), f"{name}: every pair (a, b) appears exactly once in the data")

# %% [markdown]
# ## The tables
#
# Addition mod 31 and XOR are easy to recognise. Row a, column b holds a ∘ b.

# %%
def show(T, k):
    for row in T[:k, :k]:
        print("   " + " ".join(f"{v:2d}" for v in row) + " …")


print("add, top-left 10 × 10 of 31 × 31:")
show(tables["add"], 10)
print("xor, top-left 10 × 10 of 32 × 32:")
show(tables["xor"], 10)
check(np.array_equal(tables["add"], np.add.outer(np.arange(31), np.arange(31)) % 31), "add: T[a, b] = (a + b) mod 31")
check(np.array_equal(tables["xor"], np.bitwise_xor.outer(np.arange(32), np.arange(32))), "xor: T[a, b] = a XOR b")

# %% [markdown]
# ## S4 as a group
#
# The 24 symbols of s4 are the permutations of (0, 1, 2, 3), numbered in
# `itertools.permutations` order, so symbol 0 is the identity (0, 1, 2, 3). The label of
# (i, j) is the permutation k ↦ p_i[p_j[k]]: first apply p_j, then p_i.
#
# A *group* needs: closure (the table only holds symbols), an identity, an inverse for
# every element and associativity. Every row and column of a group table is then a
# permutation of the symbols (a *Latin square*). S4 is not commutative: a ∘ b ≠ b ∘ a for
# most pairs. A classical fact: the number of commuting ordered pairs is |G| × (number of
# conjugacy classes) = 24 × 5 = 120.

# %%
perms = s4_elements()
T = tables["s4"]
print("the first 6 permutations:", perms[:6])
print("s4, top-left 10 × 10 of 24 × 24:")
show(T, 10)
n = len(perms)
e = 0
check(perms[e] == (0, 1, 2, 3) and np.all(T[e] == np.arange(n)) and np.all(T[:, e] == np.arange(n)),
      "symbol 0 is the identity: e ∘ a = a ∘ e = a")
check(all(sorted(T[a]) == list(range(n)) and sorted(T[:, a]) == list(range(n)) for a in range(n)),
      "every row and column is a permutation of the 24 symbols (Latin square)")
check(all(e in T[a] for a in range(n)), "every element has an inverse")
s = np.arange(n)
left = T[T[:, :, None], s[None, None, :]]             # (24, 24, 24): (a ∘ b) ∘ c
right = T[s[:, None, None], T[None, :, :]]            # (24, 24, 24): a ∘ (b ∘ c)
check(np.array_equal(left, right), "associativity (a ∘ b) ∘ c = a ∘ (b ∘ c) for all 24³ triples")
commuting = int(np.sum(T == T.T))
check(commuting == 120, f"S4 is not commutative: only {commuting} of 576 ordered pairs commute (= 24 × 5 classes)")
check(np.array_equal(tables["add"], tables["add"].T) and np.array_equal(tables["xor"], tables["xor"].T),
      "add and xor are commutative")
check(np.all(np.diag(tables["xor"]) == 0), "xor: every element is its own inverse (a XOR a = 0)")

# %% [markdown]
# ## The 80/20 split
#
# `lmn_edu.split` draws the training pairs at random, as the authors' code does:
# `rng.choice(N, int(0.8 N), replace=False)`. The same seed gives the same split.
#
# One thing worth noticing: for a commutative task, the mirror (b, a) of a test pair (a, b)
# is usually in the training set, with the same answer — so part of "generalizing" is just
# learning the symmetry. S4 offers that shortcut only for the few pairs that commute.

# %%
for name, t in tasks.items():
    tr, te = lmn_edu.split(t, 0.8, rng=np.random.default_rng(0))
    tr2, _ = lmn_edu.split(t, 0.8, rng=np.random.default_rng(0))
    in_train = np.zeros(len(t), bool)
    in_train[tr] = True
    a, b = t.inputs[te, 0], t.inputs[te, 1]
    # the mirror (b, a) is row b·V + a; it gives the answer away only if b ∘ a = a ∘ b
    mirror = in_train[b * t.vocab_size + a] & (a != b) & (tables[name][b, a] == tables[name][a, b])
    print(f"{name:4s}: train {len(tr)}, test {len(te)}; test pairs answered by a training mirror "
          f"b ∘ a = a ∘ b: {mirror.mean():.0%}")
    check(len(tr) == int(0.8 * len(t)) and len(np.intersect1d(tr, te)) == 0 and len(tr) + len(te) == len(t),
          f"{name}: train and test are disjoint and cover all {len(t)} pairs")
    check(np.array_equal(tr, tr2), f"{name}: the same seed gives the same split")
    check(np.array_equal(t.inputs[:, 0] * t.vocab_size + t.inputs[:, 1], np.arange(len(t))),
          f"{name}: pair (a, b) is row a·V + b of task.inputs")

# %% [markdown]
# ## A picture of the tables, with the test pairs marked

# %%
fig = Figure(figsize=(14, 5), layout="constrained")
for ax, (name, t) in zip(fig.subplots(1, 3), tasks.items()):
    im = ax.imshow(tables[name], cmap="viridis", interpolation="nearest")
    _, te = lmn_edu.split(t, 0.8, rng=np.random.default_rng(0))
    ax.scatter(t.inputs[te, 1], t.inputs[te, 0], s=4, c="white", marker="s")   # the test pairs
    ax.set_title(f"{name}: a ∘ b")
    ax.set_xlabel("b (column)")
    ax.set_ylabel("a (row)")
    fig.colorbar(im, ax=ax, label="symbol a ∘ b", shrink=0.8)
fig.suptitle("the three operation tables; white squares: the 20% test pairs (seed 0)")
course.save(fig, LESSON, "tables")
course.done()

# %% [markdown]
# ## Exercises
#
# Edit the stubs in `lessons/exercises/01_tasks.py`, then check them from the repository root
# (or from `lessons/`) with `python -m lmn_edu.course check 01`: ✓ or ✗ per exercise. Stuck? Add
# `--hint` for a nudge, `--hint 2` and `--hint 3` for more of the idea (never the code). Easy to hard:
#
# 1. ★ (5 min) **Implement** `operation_table`: the table T[a, b] = a ∘ b from a task's rows (−1 where a pair is missing).
# 2. ★ (5 min) **Implement** `commuting_pairs`: how many ordered pairs commute (S4: 120).
# 3. ★★ (20 min) **Implement** `is_group`: closure, identity, inverses, associativity: is a table a group? (a non-associative loop must say no).
# 4. **Predict, then run.** With `train_frac=0.5` instead of 0.8, what share of the add test pairs has its mirror (b, a) in the training set? Write your guess, change the split in the last cell, run it.
# 5. **Open question.** Would a network that only learned "a ∘ b = b ∘ a" score well on add's test pairs? What does that say about the test accuracy of commutative tasks?
