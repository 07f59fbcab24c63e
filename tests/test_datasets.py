import itertools

import numpy as np
import pytest

import lmn_edu
from lmn_edu.datasets import s4_compose, s4_elements


@pytest.mark.parametrize("name, n, classes", [("add", 961, 31), ("s4", 576, 24), ("xor", 1024, 32)])
def test_sizes(name, n, classes):
    task = lmn_edu.make_task(name)
    assert task.inputs.shape == (n, 2)
    assert task.labels.shape == (n,)
    assert task.n_classes == classes and task.vocab_size == classes
    assert len({tuple(p) for p in task.inputs}) == n          # every pair exactly once
    assert task.labels.min() >= 0 and task.labels.max() < classes


def test_addition_table():
    task = lmn_edu.make_task("add")
    table = task.labels.reshape(31, 31)
    a = np.arange(31)
    assert np.array_equal(table, (a[:, None] + a[None, :]) % 31)
    # each row of a group's table is a permutation (Latin square)
    assert all(len(set(row)) == 31 for row in table)


def test_xor_table():
    task = lmn_edu.make_task("xor")
    for (a, b), y in zip(task.inputs, task.labels):
        bits = [((a >> k) & 1) != ((b >> k) & 1) for k in range(5)]
        assert y == sum(int(bit) << k for k, bit in enumerate(bits))


def test_s4_is_a_group():
    task = lmn_edu.make_task("s4")
    perms = s4_elements()
    table = task.labels.reshape(24, 24)
    identity = perms.index((0, 1, 2, 3))
    assert identity == 0
    assert np.array_equal(table[identity], np.arange(24)) and np.array_equal(table[:, identity], np.arange(24))
    for i, j, k in itertools.product(range(24), repeat=3):           # associativity
        assert table[table[i, j], k] == table[i, table[j, k]]
    for i in range(24):                                              # inverses
        assert identity in table[i]
    assert not np.array_equal(table, table.T)                        # S4 is not abelian


def test_s4_label_convention():
    task = lmn_edu.make_task("s4")
    perms = s4_elements()
    for (i, j), y in zip(task.inputs[::37], task.labels[::37]):
        p, q = perms[i], perms[j]
        assert perms[y] == tuple(p[q[k]] for k in range(4)) == s4_compose(p, q)


@pytest.mark.parametrize("name", lmn_edu.TASKS)
def test_split_disjoint_complete_deterministic(name):
    task = lmn_edu.make_task(name)
    tr, te = lmn_edu.split(task, 0.8, np.random.default_rng(3))
    assert len(tr) == int(0.8 * len(task))
    assert len(np.intersect1d(tr, te)) == 0
    assert np.array_equal(np.sort(np.concatenate([tr, te])), np.arange(len(task)))
    tr2, te2 = lmn_edu.split(task, 0.8, np.random.default_rng(3))
    assert np.array_equal(tr, tr2) and np.array_equal(te, te2)
    tr3, _ = lmn_edu.split(task, 0.8, np.random.default_rng(4))
    assert not np.array_equal(tr, tr3)


def test_add_train_set_is_768():
    task = lmn_edu.make_task("add")
    tr, te = lmn_edu.split(task, 0.8, np.random.default_rng(0))
    assert (len(tr), len(te)) == (768, 193)          # Appendix B's L is 768 x 768


@pytest.mark.parametrize("bad", ["mul", "", None, 3])
def test_unknown_task(bad):
    with pytest.raises(lmn_edu.LMNInputError, match="task"):
        lmn_edu.make_task(bad)


@pytest.mark.parametrize("frac", [0.0, 1.0, -0.1, 1.5, 0.0001])
def test_bad_train_frac(frac):
    with pytest.raises(ValueError, match="train_frac"):
        lmn_edu.split(lmn_edu.make_task("add"), frac, np.random.default_rng(0))
