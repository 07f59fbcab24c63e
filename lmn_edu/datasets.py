"""The paper's three algorithmic tasks and their random 80/20 split.

Every task is a binary operation a ∘ b on a finite set of symbols. The inputs are
*all* ordered pairs (a, b), encoded as two integer tokens; the label is the token
of a ∘ b. The model sees the two tokens through a learned embedding.

- ``add``: addition modulo 31, symbols 0..30, 961 pairs, 31 classes.
- ``s4``:  composition in the permutation group S4, 24 symbols, 576 pairs, 24 classes.
- ``xor``: bitwise XOR of 5-bit numbers, 32 symbols, 1024 pairs, 32 classes.
"""
import itertools
from dataclasses import dataclass

import numpy as np

from .errors import LMNInputError, check_choice, check_int, check_real, check_rng, show

TASKS = ("add", "s4", "xor")


@dataclass(frozen=True)
class Task:
    name: str
    inputs: np.ndarray   # (N, 2) int token pairs (a, b)
    labels: np.ndarray   # (N,)  int token of a ∘ b
    vocab_size: int      # number of symbols (input tokens)
    n_classes: int       # number of output classes

    def __len__(self):
        return len(self.labels)


def s4_elements():
    """The 24 permutations of (0, 1, 2, 3), in ``itertools.permutations`` order."""
    return list(itertools.permutations(range(4)))


def s4_compose(p, q):
    """The permutation k ↦ p[q[k]] (apply q first, then p)."""
    return tuple(p[q[k]] for k in range(len(q)))


def _all_pairs(n):
    a, b = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    return np.stack([a.ravel(), b.ravel()], axis=1)  # (n*n, 2), row a*n + b


def make_task(name, modulus=31):
    """Build one of the tasks ``"add"``, ``"s4"``, ``"xor"`` with every input pair.

    ``modulus``: the p of ``add`` (31 in the paper, 113 in Nanda et al.'s transformer); the other
    tasks have a fixed size.
    """
    check_choice("task", name, TASKS)
    if name == "add":
        p = check_int("modulus", modulus, 2)
        inputs = _all_pairs(p)
        labels = (inputs[:, 0] + inputs[:, 1]) % p
        return Task(name, inputs, labels, vocab_size=p, n_classes=p)
    if name == "xor":
        n = 2 ** 5
        inputs = _all_pairs(n)
        labels = inputs[:, 0] ^ inputs[:, 1]
        return Task(name, inputs, labels, vocab_size=n, n_classes=n)
    perms = s4_elements()
    index = {p: i for i, p in enumerate(perms)}
    inputs = _all_pairs(len(perms))
    labels = np.array([index[s4_compose(perms[i], perms[j])] for i, j in inputs])
    return Task(name, inputs, labels, vocab_size=len(perms), n_classes=len(perms))


def split(task, train_frac=0.8, rng=None):
    """Split the pairs at random into train and test indices (sorted, disjoint, complete).

    As in the authors' code, the train set is ``rng.choice(N, int(train_frac * N),
    replace=False)`` and the test set is the rest. ``train_frac`` may be any real number type
    (np.float32(0.8) too) strictly between 0 and 1.
    """
    if not isinstance(task, Task):
        raise LMNInputError(f"task must be a Task from make_task(name), got {show(task)}")
    train_frac = check_real("train_frac", train_frac, gt=0.0, lt=1.0)
    if rng is None:
        raise LMNInputError("split needs rng=np.random.default_rng(seed): the RNG is passed in")
    check_rng("rng", rng)
    n = len(task.labels)
    n_train = int(train_frac * n)
    if n_train < 1 or n_train >= n:
        raise LMNInputError(f"train_frac={train_frac!r} leaves an empty train or test set for N={n}")
    train_idx = np.sort(rng.choice(n, n_train, replace=False))
    test_idx = np.setdiff1d(np.arange(n), train_idx)
    return train_idx, test_idx
