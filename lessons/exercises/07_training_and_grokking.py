"""Lesson 07 exercises: the phase boundaries of a run, and its generalizing window.
Run `python -m lmn_edu.course check 07` to check your work.
"""


def phase_boundaries(rows):
    """(memorization step, generalization step) of a run's rows (dicts with step, train_acc, test_acc).

    Memorization: the first step with train_acc ≥ 1; generalization: the first with test_acc ≥ 1.
    None for a boundary the run never reached.
    """
    raise NotImplementedError("your turn: see the docstring")


def generalizing_window(rows, column="lmn_h1"):
    """The rows from memorization to generalization, both included, where ``column`` is not None.

    If the run never generalized, the window runs to the last row; if it never memorized, it is [].
    """
    raise NotImplementedError("your turn: see the docstring")
