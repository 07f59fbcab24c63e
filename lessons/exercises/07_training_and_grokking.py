"""Lesson 07 exercises: the phase boundaries of a run, its generalizing window, and a phase step
that noisy accuracies cannot fool. Run `python -m lmn_edu.course check 07` (`--hint` for a hint).
"""


def phase_boundaries(rows):
    """★ (10 min) (memorization step, generalization step) of a run's rows (dicts with step,
    train_acc, test_acc, in step order; an accuracy may be None where it was not evaluated).

    Memorization: the first step with train_acc ≥ 1; generalization: the first with test_acc ≥ 1
    — the first time it gets there, even if it drops again later. None for a boundary the run
    never reached.
    """
    raise NotImplementedError("your turn: see the docstring")


def generalizing_window(rows, column="lmn_h1"):
    """★★ (10 min) The rows from memorization to generalization, both included, where ``column`` is
    not None (boundaries as in phase_boundaries).

    If the run never generalized, the window runs to the last row; if it never memorized, it is [].
    """
    raise NotImplementedError("your turn: see the docstring")


def settled_step(rows, key="train_acc", threshold=0.99, patience=3):
    """★★★ (25 min) The step where ``key`` settles at or above ``threshold``, despite noise.

    That is the step of the first row that starts a stretch of ``patience`` consecutive
    evaluations with key ≥ threshold — or a shorter stretch that lasts to the last evaluation
    of the run. Rows where key is None were not evaluated: skip them (they neither break nor
    extend a stretch). None when key never settles.
    """
    raise NotImplementedError("your turn: see the docstring")
